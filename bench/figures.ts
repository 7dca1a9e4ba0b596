import { execFileSync, spawn as spawnChild } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pidAlive } from '../src/sys/proc';
import { Sampler, memPartsValues, readMem } from './memory';
import { OuterTerm } from './outer';
import type { Sandbox } from './sandbox';
import { type Column, PtySystem, type Size, type System, type SystemName, killAll, pokeFifo } from './systems';
import { BenchError, errorText, liveChildren, mapLimit, now, percentile, run, sleep, waitUntil, withTimeout } from './util';

// The measurements. Each figure is a function of (column, run) that starts its own
// sessions, measures, and always removes what it started (try/finally), returning named
// values; the driver runs it several times for each system, interleaving the systems so
// that a noisy neighbour hurts them alike.

export interface Plan {
  runs: { spawn: number; flood: number; echo: number; attach: number; memory: number; history: number; scale: number };
  /** Agents of the scale figure (100) and the calls made to them at once (200). */
  scaleAgents: number;
  scaleCalls: number;
  floodBytes: number;
  keys: number;
  keyGapMs: number;
  /** Keys typed (unmeasured) before the echo is measured again, warm (0: not measured). */
  warmKeys: number;
  idleSessions: number;
  /** Before memory is read: idle memory is what a session holds for hours, and V8's memory
   *  reducer compacts a Node process's heap only some 8 s after its allocations calm down
   *  (measured on idle supervisors: 13.1 MB private for the first ~8 s, 9.7 MB from then on). */
  memorySettleMs: number;
}

export type Values = Record<string, number | boolean>;

export interface RunRecord {
  figure: string;
  column: Column;
  run: number;
  values?: Values;
  /** Raw measurements, for figures taken over all runs together (echo percentiles). */
  samples?: Record<string, number[]>;
  error?: string;
}

/** One column's result of a figure measured for all columns at once. */
export interface ColumnResult {
  values: Values;
  samples: Record<string, number[]>;
}

export interface Ctx {
  sb: Sandbox;
  systems: Map<SystemName, System>;
  plan: Plan;
  size: Size;
  flood: FloodFile;
  /** The same size of coloured lines. */
  colourFlood: FloodFile;
  progress: (what: string) => void;
}

let idCounter = 0;
function nextId(prefix: string): string {
  idCounter++;
  return `${prefix}${idCounter}`;
}

function outerFor(ctx: Ctx, file: string, args: string[], track = true, keepRaw = false): OuterTerm {
  return new OuterTerm(file, args, { cols: ctx.size.cols, rows: ctx.size.rows, cwd: ctx.sb.work, env: ctx.sb.env, track, keepRaw });
}

function attach(ctx: Ctx, sys: System, id: string, keepRaw = false): OuterTerm {
  const [file, args] = sys.attachArgv(id);
  return outerFor(ctx, file, args, true, keepRaw);
}

function sys(ctx: Ctx, col: Column): System {
  const s = ctx.systems.get(col as SystemName);
  if (!s) throw new BenchError(`no system ${col}`);
  return s;
}

/** Removes a session; a failure here is reported but does not hide the measurement's own error. */
async function cleanup(s: System, id: string, outer: OuterTerm | null): Promise<void> {
  if (outer && !outer.exit) {
    await s.detach(outer, id).catch(() => outer.close().catch(() => undefined));
  }
  await s.kill(id).catch((err) => {
    throw new BenchError(`could not kill session ${id}: ${errorText(err)}`);
  });
}

// ---- spawn → running ----------------------------------------------------------------

/**
 * From the spawn command's start until both: the command has returned (the session exists)
 * and the agent process has started (it creates a file first thing). Also: until the
 * agent's first line is visible through the system's own capture command, polled.
 * `cold`: without the standby a previous spawn left (pty; tmux has none: the same spawn).
 */
export async function figSpawn(ctx: Ctx, col: Column, cold = false): Promise<Values> {
  const id = nextId('sp');
  const started = path.join(ctx.sb.work, `started-${id}`);
  const mark = `SPAWN-MARK-${id}`;
  const script = `: > ${started}; echo ${mark}; exec cat`;
  const startedAt = (): boolean => fs.existsSync(started);
  if (col === 'direct') {
    const t0 = now();
    const outer = outerFor(ctx, 'sh', ['-c', script]);
    try {
      const tStart = await waitUntil(startedAt, 10_000, 'the agent to start', 1);
      const tSeen = await outer.waitText(mark, 10_000);
      return { spawn_ms: tStart - t0, spawn_return_ms: tStart - t0, spawn_visible_ms: tSeen - t0 };
    } finally {
      await outer.close();
    }
  }
  const s = sys(ctx, col);
  const t0 = now();
  const spawned = s.spawn(id, ['sh', '-c', script], ctx.size, cold ? { SYMPOSIUM_STANDBY: '0' } : {});
  const agentUp = waitUntil(startedAt, 20_000, 'the agent to start', 1);
  agentUp.catch(() => undefined);
  try {
    const res = await spawned;
    const tStart = await agentUp;
    const tVis = await waitUntil(async () => (await s.capture(id)).includes(mark), 15_000, `${mark} in the captured screen`, 0);
    return { spawn_ms: Math.max(res.endedAt, tStart) - t0, spawn_return_ms: res.endedAt - t0, spawn_visible_ms: tVis - t0 };
  } finally {
    await cleanup(s, id, null);
  }
}

/**
 * The fixed cost of starting the program a user types, doing nothing: `symposium-mcp --help`
 * (Node start-up plus loading the CLI), `tmux -V`, and a bare `node -e 0` as the floor of
 * any Node program. It is part of every CLI figure (spawn, attach, capture).
 */
export async function figStartup(ctx: Ctx, col: Column): Promise<Values> {
  const [file, args]: [string, string[]] =
    col === 'pty' ? [ctx.sb.cli, ['--help']] : col === 'tmux' ? ['tmux', ['-V']] : [process.execPath, ['-e', '0']];
  const res = await run(file, args, { env: ctx.sb.env, cwd: ctx.sb.work, timeoutMs: 30_000 });
  return { startup_ms: res.endedAt - res.startedAt };
}

// ---- flood ----------------------------------------------------------------------------

/** A flood to `cat`: the file and its last line's text. */
export interface FloodFile {
  path: string;
  end: string;
}

/**
 * Writes `bytes` of printable 100-byte lines; the last line is a marker. Returns it.
 * `coloured`: each line also has SGR colours as compilers, grep and ls print them (a bold
 * coloured head, a green word, resets), about 20 % of its bytes.
 */
export function makeFloodFile(file: string, bytes: number, coloured = false): string {
  const lineLen = 100;
  const lines = Math.max(1, Math.floor(bytes / lineLen));
  const end = 'FLOOD-END-MARK';
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-+=()[]{}<>/?!@#$%^&*~';
  const fd = fs.openSync(file, 'w');
  try {
    const perChunk = 10_000;
    for (let i = 0; i < lines; i += perChunk) {
      const parts: string[] = [];
      for (let j = i; j < Math.min(lines, i + perChunk); j++) {
        if (j === lines - 1) {
          parts.push(`${end}${'.'.repeat(lineLen - 1 - end.length)}\n`);
          continue;
        }
        const head = `${String(j).padStart(10, '0')} `;
        const off = j % alphabet.length;
        if (coloured) {
          const body = (alphabet.slice(off) + alphabet + alphabet).slice(0, lineLen - 1 - head.length - 20);
          parts.push(`\x1b[1;3${j % 8}m${head}\x1b[0m${body.slice(0, 30)}\x1b[32m${body.slice(30, 40)}\x1b[0m${body.slice(40)}\n`);
        } else {
          const body = (alphabet.slice(off) + alphabet + alphabet).slice(0, lineLen - 1 - head.length);
          parts.push(`${head}${body}\n`);
        }
      }
      fs.writeSync(fd, parts.join(''));
    }
  } finally {
    fs.closeSync(fd);
  }
  return end;
}

/**
 * The agent waits on a FIFO, then `cat`s the flood file and exits. Timed from the moment
 * the benchmark releases it until its exit is known: `agent wait --exit` returning (pty),
 * tmux's pane-died hook firing (tmux: that is when tmux has read the pane to its end), or
 * node-pty's exit event after the last data (direct). Attached: a client is attached and
 * its terminal drained by the benchmark throughout. Memory of the supervisor / the tmux
 * server is sampled every 50 ms meanwhile.
 */
export async function figFlood(ctx: Ctx, col: Column, attached: boolean, file: FloodFile = ctx.flood): Promise<Values> {
  const id = nextId(attached ? 'fa' : file === ctx.flood ? 'fd' : 'fc');
  const ready = path.join(ctx.sb.work, `ready-${id}`);
  const fifo = path.join(ctx.sb.work, `go-${id}`);
  execFileSync('mkfifo', [fifo]);
  const readyMark = `FLOOD-READY-${id}`;
  const script = `echo ready > ${ready}; echo ${readyMark}; read x < ${fifo}; exec cat ${file.path}`;
  const mb = ctx.plan.floodBytes / 1e6;
  const timeoutMs = Math.max(60_000, mb * 1000); // no slower than 1 MB/s
  if (col === 'direct') {
    const outer = outerFor(ctx, 'sh', ['-c', script]);
    try {
      await outer.waitText(readyMark, 10_000);
      outer.track = false;
      // node-pty can report the exit before the last data: the end is the later of the
      // exit and the last line's arrival (lost, if it never comes).
      const lastLine = outer.waitFor(() => outer.tail.includes(file.end), timeoutMs, 'the last line of the flood');
      lastLine.catch(() => undefined);
      const t0 = await pokeFifo(fifo, 10_000);
      const ex = await withTimeout(outer.exited, timeoutMs, 'the flood to end');
      const tLast = await withTimeout(lastLine, 2000, 'the last line after the exit').catch(() => null);
      const secs = (Math.max(ex.at, tLast ?? 0) - t0) / 1000;
      return { mbps: mb / secs, secs, complete: tLast !== null, client_mchars: outer.chars / 1e6 };
    } finally {
      await outer.close();
    }
  }
  const s = sys(ctx, col);
  if (s.name === 'tmux') await s.reset(); // a fresh server: its peak memory is this flood's
  await s.spawn(id, ['sh', '-c', script], ctx.size);
  let outer: OuterTerm | null = null;
  try {
    await waitUntil(() => fs.existsSync(ready), 15_000, 'the flood agent to start', 2);
    if (attached) {
      outer = attach(ctx, s, id);
      await outer.waitText(readyMark, 15_000);
      await outer.quiet(100, 5000);
      outer.track = false;
    }
    const pids = await s.serverPids([id]);
    const waiter = await s.exitWaiter(id, timeoutMs);
    waiter.done.catch(() => undefined);
    // When the client shows the last line (if it ever does): the stream's own end, before
    // the system declares the exit.
    let clientLastLine: number | null = null;
    if (outer) {
      const o = outer;
      o.waitFor(() => o.tail.includes(file.end), timeoutMs, 'the last line in the client').then(
        (t) => (clientLastLine = t),
        () => undefined,
      );
    }
    // Our supervisor's native helpers (relay, flood pump) count as part of it.
    const sampler = new Sampler(pids, 50, 'symposium-relay').start();
    const clientSampler = outer ? new Sampler([outer.p.pid], 50).start() : null;
    let t0: number;
    let tEnd: number;
    let mem;
    let clientMem = null;
    try {
      t0 = await pokeFifo(fifo, 10_000);
      tEnd = await waiter.done;
      // Memory is sampled past the end too: what a system does after the exit is known
      // (our supervisor writes the final screen then) counts for its peak. Until its
      // processes are gone, at most 1.5 s (tmux's server stays).
      await waitUntil(() => !pids.some(pidAlive), 1500, 'the end', 20).catch(() => undefined);
    } finally {
      mem = sampler.stop();
      clientMem = clientSampler?.stop() ?? null;
    }
    const secs = (tEnd - t0) / 1000;
    const screen = await s.capture(id).catch(() => '');
    const v: Values = {
      mbps: mb / secs,
      secs,
      complete: screen.includes(file.end),
      peak_pss_mib: mem.peakPssKiB / 1024,
      peak_rss_mib: mem.peakRssKiB / 1024,
      server_cpu_s: mem.cpuSeconds,
      mem_samples: mem.samples,
    };
    if (outer && clientMem) {
      await sleep(20); // a last chunk already read but not yet dispatched
      if (clientLastLine !== null) v.client_last_line_s = (clientLastLine - t0) / 1000;
      v.client_mchars = outer.chars / 1e6;
      v.client_peak_pss_mib = clientMem.peakPssKiB / 1024;
      v.client_cpu_s = clientMem.cpuSeconds;
    }
    return v;
  } finally {
    await cleanup(s, id, outer);
  }
}

// ---- keystroke echo ---------------------------------------------------------------------

const KEYS = 'abcdefghijklmnopqrstuvwxyz';

/** One terminal typed into during the echo figure: a system's attach, or a direct pty. */
interface EchoTerm {
  outer: OuterTerm;
  typed: number;
  close: () => Promise<void>;
}

async function openEchoTerm(ctx: Ctx, col: Column, nodeRelay: boolean): Promise<EchoTerm> {
  const id = nextId('ec');
  const readyMark = `ECHO-READY-${id}`;
  const script = `stty raw -echo; echo ${readyMark}; exec cat`;
  let outer: OuterTerm | null = null;
  let close: () => Promise<void>;
  if (col === 'direct') {
    outer = nodeRelay ? outerFor(ctx, process.execPath, [path.join(__dirname, 'node-relay.js'), 'sh', '-c', script]) : outerFor(ctx, 'sh', ['-c', script]);
    const o = outer;
    close = () => o.close();
  } else {
    const s = sys(ctx, col);
    close = () => cleanup(s, id, outer);
    try {
      await s.spawn(id, ['sh', '-c', script], ctx.size);
      await s.waitText(id, readyMark, 15_000);
      outer = attach(ctx, s, id);
    } catch (err) {
      await close().catch(() => undefined);
      throw err;
    }
  }
  try {
    await outer.waitText(readyMark, 15_000);
    await outer.quiet(200, 5000);
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return { outer, typed: 0, close };
}

/** Types one key and resolves with the time until its echo showed. */
async function typeOne(t: EchoTerm): Promise<number> {
  const o = t.outer;
  const ch = KEYS[t.typed++ % KEYS.length]!;
  const from = o.mark;
  const t0 = now();
  o.write(ch);
  const t1 = await o.waitFor(() => o.seen(ch, from), 5000, `the echo of key ${t.typed} (${ch})`);
  return t1 - t0;
}

/**
 * `n` keys into each terminal, taking turns key by key (a, b, c, a, b, c…), so that every
 * system is measured through the same moments of the machine's load: a burst of other
 * work on this shared machine then slows all of them alike, instead of whichever system
 * was running at the time. The latencies of each terminal's keys after its first `skip`.
 */
async function typeInTurns(terms: EchoTerm[], n: number, skip: number, gapMs: number): Promise<number[][]> {
  const lat = terms.map((): number[] => []);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < terms.length; k++) {
      const ms = await typeOne(terms[k]!);
      if (i >= skip) lat[k]!.push(ms);
      if (gapMs > 0) await sleep(gapMs);
    }
  }
  return lat;
}

function echoValues(lat: number[]): Values {
  return {
    p50_ms: percentile(lat, 50),
    p90_ms: percentile(lat, 90),
    p99_ms: percentile(lat, 99),
    max_ms: Math.max(...lat),
    mean_ms: lat.reduce((a, b) => a + b, 0) / lat.length,
    keys: lat.length,
  };
}

/**
 * Keystroke echo, every column in one run. The agent is `cat` on a raw-mode pty, so the
 * program itself echoes each key as agents do. One key at a time into each outer terminal
 * in turn; the time until that character appears in the outer terminal's output. 10
 * warm-up keys are not counted. The direct column also types through a bare Node relay
 * (what any Node process in the path costs).
 */
export async function figEchoInTurns(ctx: Ctx, order: Column[]): Promise<Map<Column, ColumnResult>> {
  const opened: Array<{ col: Column; relay: boolean; term: EchoTerm }> = [];
  try {
    for (const col of order) {
      opened.push({ col, relay: false, term: await openEchoTerm(ctx, col, false) });
      if (col === 'direct') opened.push({ col, relay: true, term: await openEchoTerm(ctx, col, true) });
    }
    const terms = opened.map((o) => o.term);
    const lat = await typeInTurns(terms, 10 + ctx.plan.keys, 10, ctx.plan.keyGapMs);
    const out = new Map<Column, ColumnResult>();
    const ms = (xs: number[]): number[] => xs.map((x) => Math.round(x * 1000) / 1000);
    // A bare Node relay is opened right after its direct pty: its figures join that column's.
    opened.forEach((o, k) => {
      if (!o.relay) {
        out.set(o.col, { values: echoValues(lat[k]!), samples: { echo: ms(lat[k]!) } });
        return;
      }
      const r = out.get(o.col)!;
      r.values.relay_p50_ms = percentile(lat[k]!, 50);
      r.values.relay_p99_ms = percentile(lat[k]!, 99);
      r.samples.relay = ms(lat[k]!);
    });
    if (ctx.plan.warmKeys > 0) {
      // A session in use for a while: a Node supervisor's code is optimized by then
      // (measured: the median falls by a third), a C server's is what it was.
      const warmTerms = opened.filter((o) => !o.relay);
      await typeInTurns(warmTerms.map((o) => o.term), ctx.plan.warmKeys, ctx.plan.warmKeys, 0);
      const warm = await typeInTurns(warmTerms.map((o) => o.term), ctx.plan.keys, 0, ctx.plan.keyGapMs);
      warmTerms.forEach((o, k) => {
        const r = out.get(o.col)!;
        r.values.warm_p50_ms = percentile(warm[k]!, 50);
        r.values.warm_p99_ms = percentile(warm[k]!, 99);
        r.samples.warm = ms(warm[k]!);
      });
    }
    await closeAll(opened.map((o) => o.term));
    return out;
  } catch (err) {
    await closeAll(opened.map((o) => o.term)).catch(() => undefined); // the first error is the one to see
    throw err;
  }
}

/** Closes every terminal (and its session), then reports the first failure. */
async function closeAll(terms: EchoTerm[]): Promise<void> {
  const results = await Promise.allSettled(terms.reverse().map((t) => t.close()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

// ---- attach with history ------------------------------------------------------------------

/**
 * The agent prints 5 000 lines and a last marker line, then waits. Once that is on its
 * screen, a fresh client attaches: the time from starting the attach command until the
 * marker line shows in the outer terminal. Includes the client program's own start-up, as
 * the user experiences it. Warm: the agent has been quiet for a second first (a supervisor
 * prepares its snapshot after 0.5 s of quiet). Cold: at once, as soon as the marker is
 * seen, as when you attach to look at what just scrolled by.
 */
export async function figAttach(ctx: Ctx, col: Column, cold = false): Promise<Values> {
  if (col === 'direct') throw new BenchError('no attach for a direct pty');
  const s = sys(ctx, col);
  const id = nextId('at');
  const mark = `HISTORY-END-${id}`;
  const script = `seq -f 'history line %05.0f: the quick brown fox jumps over the lazy dog 0123456789' 1 5000; echo ${mark}; exec cat`;
  await s.spawn(id, ['sh', '-c', script], ctx.size);
  let outer: OuterTerm | null = null;
  try {
    await s.waitText(id, mark, 20_000);
    // Warm: the agent has been waiting a moment when the user comes back (1 s: enough for a
    // supervisor to have prepared its snapshot after 0.5 s of quiet, as it does).
    if (!cold) await sleep(1000);
    const t0 = now();
    outer = attach(ctx, s, id, true);
    // Only a system that replays the history shows its first line (tmux shows the screen).
    const firstLine = outer.waitText('history line 00001:', 10_000).catch(() => NaN);
    const t1 = await outer.waitText(mark, 10_000);
    await outer.quiet(150, 5000);
    return {
      attach_ms: t1 - t0,
      first_byte_ms: (outer.firstDataAt ?? t1) - t0,
      first_line_ms: outer.seen('history line 00001:') ? (await firstLine) - t0 : NaN,
      attach_kchars: outer.chars / 1000,
      history_replayed: outer.seen('history line 00001:'),
      floor_ms: await sameBytesByCat(ctx, id, outer.rawText(), mark),
    };
  } finally {
    await cleanup(s, id, outer);
  }
}

/**
 * Where an attach's time goes besides the system's own work: the same characters the
 * attach wrote, written by `cat` in a terminal of the same size, until the same mark shows.
 * That is the terminal's part (the pty in 4 KiB reads, this process's handling of each),
 * which any program that replays the history pays.
 */
async function sameBytesByCat(ctx: Ctx, id: string, bytes: string, mark: string): Promise<number> {
  const file = path.join(ctx.sb.dir, `${id}.replay`);
  fs.writeFileSync(file, bytes);
  const t0 = now();
  // cat stays in the terminal until closed: node-pty may drop what a child wrote just
  // before it exited (shared/lessons.md).
  const term = outerFor(ctx, 'sh', ['-c', 'cat "$0"; exec sleep 60', file]);
  try {
    const t1 = await term.waitText(mark, 10_000);
    return t1 - t0;
  } finally {
    await term.close().catch(() => undefined);
    fs.rmSync(file, { force: true });
  }
}

// ---- idle memory --------------------------------------------------------------------------

/**
 * N idle sessions (the agent is `cat`, waiting for input); after a settle time, the PSS of
 * the processes the system adds per session: the N supervisors (pty) or the one tmux server,
 * divided by N. The agents themselves are the same for both and reported apart.
 */
export async function figMemory(ctx: Ctx, col: Column): Promise<Values> {
  const n = ctx.plan.idleSessions;
  if (col === 'direct') return bareNodeMemory(ctx, n);
  const s = sys(ctx, col);
  if (s.name === 'tmux') await s.reset();
  const ids = Array.from({ length: n }, () => nextId('id'));
  const spawned: string[] = [];
  try {
    await mapLimit(ids, s.name === 'pty' ? 4 : 1, async (id) => {
      await s.spawn(id, ['cat'], ctx.size);
      spawned.push(id);
    });
    await sleep(ctx.plan.memorySettleMs);
    const pids = await s.serverPids(ids);
    let pss = 0;
    let rss = 0;
    let anon = 0;
    for (const pid of pids) {
      const m = readMem(pid);
      if (!m) throw new BenchError(`process ${pid} (${s.name}) is gone: cannot read its memory`);
      pss += m.pssKiB;
      rss += m.rssKiB;
      anon += m.pssAnonKiB;
    }
    let agentPss = 0;
    for (const pid of await s.agentPids(ids)) agentPss += readMem(pid)?.pssKiB ?? 0;
    // The standby (pty): one per user, not per session; reported apart.
    const standby = s instanceof PtySystem ? s.standbyPids().map((pid) => readMem(pid)) : [];
    return {
      ...(standby[0] ? { standby_pss_mib: standby[0].pssKiB / 1024, standby_anon_mib: standby[0].pssAnonKiB / 1024 } : {}),
      pss_per_session_mib: pss / n / 1024,
      anon_per_session_mib: anon / n / 1024,
      shared_share_mib: (pss - anon) / n / 1024,
      ...memPartsValues(pids, n),
      rss_per_session_mib: rss / n / 1024,
      server_processes: pids.length,
      total_pss_mib: pss / 1024,
      agent_pss_mib: agentPss / n / 1024,
    };
  } finally {
    await killAll(s, spawned);
  }
}

/** The floor for a Node supervisor: N bare `node` processes, idle, measured the same way. */
async function bareNodeMemory(ctx: Ctx, n: number): Promise<Values> {
  const children = Array.from({ length: n }, () => {
    const c = spawnChild(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { env: ctx.sb.env, stdio: 'ignore' });
    liveChildren.add(c);
    c.on('exit', () => liveChildren.delete(c));
    return c;
  });
  try {
    await waitUntil(() => children.every((c) => c.pid !== undefined && readMem(c.pid) !== null), 10_000, 'bare node processes', 10);
    await sleep(ctx.plan.memorySettleMs);
    let pss = 0;
    let rss = 0;
    let anon = 0;
    for (const c of children) {
      const m = readMem(c.pid!);
      if (!m) throw new BenchError('a bare node process died');
      pss += m.pssKiB;
      rss += m.rssKiB;
      anon += m.pssAnonKiB;
    }
    return {
      pss_per_session_mib: pss / n / 1024,
      anon_per_session_mib: anon / n / 1024,
      rss_per_session_mib: rss / n / 1024,
      server_processes: n,
      total_pss_mib: pss / 1024,
    };
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await waitUntil(() => children.every((c) => c.exitCode !== null || c.signalCode !== null), 5000, 'bare node processes to exit', 10).catch(() => undefined);
  }
}
