/** What the policy looks at of a connection. */
export interface Voter {
  /** Voters are numbered in the order they came: the lower, the longer attached. */
  readonly id: number;
  /** A writable viewer (attach mode, not read-only). */
  readonly canWrite: boolean;
  readonly cols: number | null;
  readonly rows: number | null;
  /** Rank of this viewer's latest typing among all (0: never typed). */
  readonly typedOrder: number;
  /** Receiving the stream. */
  readonly live: boolean;
  /** Fell behind. */
  readonly stale: boolean;
}

// Which viewer decides the window size, and which one answers the agent's terminal
// queries. `latest` (tmux's default `window-size latest`): the viewer that most recently
// typed a real key. Attaching or resizing does not take over: before anyone typed, the
// viewer that has been attached longest keeps the size, so a lone first viewer sets it
// and a second one joining does not. `smallest` fits every writable viewer. Read-only
// viewers never count.

/** Typed most recently first; nobody typed: attached first (connection ids only grow). */
function byPrecedence(a: Voter, b: Voter): number {
  return b.typedOrder - a.typedOrder || a.id - b.id;
}

function sized<V extends Voter>(c: V): c is V & { cols: number; rows: number } {
  return c.canWrite && c.cols !== null && c.rows !== null;
}

/** The viewer whose size wins under `latest`. */
export function leadViewer<V extends Voter>(conns: Iterable<V>): (V & { cols: number; rows: number }) | null {
  const writable = [...conns].filter(sized);
  writable.sort(byPrecedence);
  return writable[0] ?? null;
}

/**
 * The one viewer whose terminal answers the agent's queries (DA, CPR…). It must be
 * receiving the stream (live and not stale), else it never sees the query; with no such
 * viewer the supervisor's own headless terminal answers.
 */
export function answeringViewer<V extends Voter>(conns: Iterable<V>): V | null {
  const receiving = [...conns].filter((c) => c.canWrite && c.live && !c.stale);
  receiving.sort(byPrecedence);
  return receiving[0] ?? null;
}

export function chooseSize(
  policy: 'latest' | 'smallest',
  conns: Iterable<Voter>,
): { cols: number; rows: number } | null {
  if (policy === 'latest') {
    const lead = leadViewer(conns);
    return lead ? { cols: lead.cols, rows: lead.rows } : null;
  }
  let cols = Infinity;
  let rows = Infinity;
  for (const c of conns) {
    if (!sized(c)) continue;
    cols = Math.min(cols, c.cols);
    rows = Math.min(rows, c.rows);
  }
  return Number.isFinite(cols) ? { cols, rows } : null;
}

/** The rank of the latest typing among these viewers (0: nobody typed). */
export function lastTypedOrder(conns: Iterable<Voter>): number {
  let n = 0;
  for (const c of conns) if (c.typedOrder > n) n = c.typedOrder;
  return n;
}
