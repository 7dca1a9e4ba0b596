import { utcIso } from '../utc-iso';

// Rust's serde form of SystemTime: { secs_since_epoch, nanos_since_epoch }.

export interface SystemTime {
  secs_since_epoch: number;
  nanos_since_epoch: number;
}

export function now(): SystemTime {
  let ns = process.hrtime.bigint() - hrtimeOrigin + wallOriginNs;
  const wall = BigInt(Date.now()) * 1_000_000n;
  if (ns - wall > REANCHOR_NS || wall - ns > REANCHOR_NS) {
    hrtimeOrigin = process.hrtime.bigint();
    wallOriginNs = wall;
    ns = wall;
  }
  return {
    secs_since_epoch: Number(ns / 1_000_000_000n),
    nanos_since_epoch: Number(ns % 1_000_000_000n),
  };
}

// Wall-clock nanoseconds: Date.now() anchors, hrtime adds the sub-millisecond part.
let hrtimeOrigin = process.hrtime.bigint();
let wallOriginNs = BigInt(Date.now()) * 1_000_000n;
/** Further apart than this, hrtime's count and the wall clock are anchored again: the
 *  monotonic clock stops while the machine sleeps, the wall clock may be set, and a copy of
 *  the standby (standby/copy.ts) inherits an anchor taken hours before. */
const REANCHOR_NS = 1_000_000_000n;

export function fromMillis(ms: number): SystemTime {
  const whole = Math.floor(ms);
  return {
    secs_since_epoch: Math.floor(whole / 1000),
    nanos_since_epoch: (whole % 1000) * 1_000_000,
  };
}

export function toMillis(t: SystemTime): number {
  return t.secs_since_epoch * 1000 + Math.floor(t.nanos_since_epoch / 1_000_000);
}

export function toIso(t: SystemTime): string {
  return utcIso(toMillis(t));
}
