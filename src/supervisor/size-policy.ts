import type { Connection } from './connection';

// Which viewer decides the window size, and which one answers the agent's terminal
// queries. tmux's default `window-size latest`: the viewer that most recently typed a
// real key; before anyone typed, the viewer that attached last. `smallest` fits every
// writable viewer. Read-only viewers never count.

function byRecency(a: Connection, b: Connection): number {
  return b.typedAt - a.typedAt || b.attachedAt - a.attachedAt;
}

/** The viewer whose terminal answers queries and whose size wins under `latest`. */
export function leadViewer(conns: Iterable<Connection>): Connection | null {
  const writable = [...conns].filter((c) => c.canWrite && c.cols !== null && c.rows !== null);
  writable.sort(byRecency);
  return writable[0] ?? null;
}

export function answeringViewer(conns: Iterable<Connection>): Connection | null {
  const writable = [...conns].filter((c) => c.canWrite && c.live);
  writable.sort(byRecency);
  return writable[0] ?? null;
}

export function chooseSize(
  policy: 'latest' | 'smallest',
  conns: Iterable<Connection>,
): { cols: number; rows: number } | null {
  if (policy === 'latest') {
    const lead = leadViewer(conns);
    return lead ? { cols: lead.cols!, rows: lead.rows! } : null;
  }
  let cols = Infinity;
  let rows = Infinity;
  for (const c of conns) {
    if (!c.canWrite || c.cols === null || c.rows === null) continue;
    cols = Math.min(cols, c.cols);
    rows = Math.min(rows, c.rows);
  }
  return Number.isFinite(cols) ? { cols, rows } : null;
}
