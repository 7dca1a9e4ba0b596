import { type ProcStat, cmdline, descendantsOf, liveProcesses, pidsWithEnv, procStat, stillRunning } from './proc';

// What `agent kill` ends: every process that descends from the agent, in its process
// group or not (Gemini CLI run through a wrapper left two processes behind, 3 of 3 times:
// its child runs in a session of its own, so the group's signals and the pty's hangup never
// reach it). The tree is taken when the kill starts, while the parent links still exist
// (once a parent dies its children are init's), and looked at again at each step while
// the kill goes on; every process is signalled by pid only while it is still the process
// seen (same start time). A process that left the tree before the kill (it daemonised
// itself: double fork, setsid) is not the agent's any more and is left alone, as tmux
// leaves it; the agent's marker in its environment tells the kill to name it.

export interface ProcessInfo {
  pid: number;
  /** Its command line. */
  command: string;
}

export class ProcessTree {
  private readonly members = new Map<number, ProcStat>();

  /** The descendants of `roots` now (the roots themselves too, when `withRoots`). */
  constructor(
    private readonly roots: number[],
    withRoots = false,
  ) {
    if (withRoots) for (const pid of roots) this.add(procStat(pid));
    this.refresh();
  }

  private add(st: ProcStat | null): void {
    if (st && st.pid !== process.pid && !this.members.has(st.pid)) this.members.set(st.pid, st);
  }

  /** Adds what the roots and the members started since. */
  refresh(): void {
    const table = liveProcesses();
    for (const pid of [...this.roots, ...this.members.keys()]) for (const d of descendantsOf(pid, table)) this.add(d);
  }

  has(pid: number): boolean {
    return this.members.has(pid);
  }

  /** The members still running. */
  alive(): ProcStat[] {
    return [...this.members.values()].filter(stillRunning);
  }

  signal(sig: NodeJS.Signals): void {
    for (const p of this.alive()) {
      try {
        process.kill(p.pid, sig);
      } catch {
        /* gone meanwhile */
      }
    }
  }
}

/**
 * Processes carrying the agent's marker (`NAME=value` in their environment) that are not
 * in `tree` and not `except`: they left the agent's tree before the kill.
 */
export function leftTheTree(name: string, value: string, tree: ProcessTree, except: number[]): ProcessInfo[] {
  // The marked ones first, the tree after: a child the agent started meanwhile (a shell's
  // `sleep 1` loop starts one a second) is in the tree by then, its parent still alive.
  // The other order named such a child: a fresh-clone run saw it, and
  // test/unit/process-tree.test.ts does within its 100 looks.
  const marked = pidsWithEnv(name, value);
  tree.refresh();
  return marked
    .filter((pid) => !tree.has(pid) && !except.includes(pid))
    .map((pid) => ({ pid, command: cmdline(pid) }))
    .filter((p) => p.command !== '');
}
