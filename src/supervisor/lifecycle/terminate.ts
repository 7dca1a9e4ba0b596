import { RUN_MARKER, runMarker } from '../../agent-marker';
import { type ProcessInfo, ProcessTree, leftTheTree } from '../../sys/process-tree';
import type { AgentProcess } from './agent-process';
import { log } from './log';

// Ending the agent on purpose: SIGTERM to the supervisor, or a kill request.

export interface TerminateHost {
  readonly config: { readonly id: string; readonly createdAtMs: number };
  readonly agent: AgentProcess;
  /** The agent's end (agent-end.ts). */
  readonly end: { readonly ended: boolean; onEnded(cb: () => void): void };
}

/**
 * Ends the agent the polite way first, with every process that descends from it. Resolves
 * once its end is handled (agent-end.ts), with the processes of this run that had left its
 * tree before (they daemonised themselves): those are left running.
 */
export async function terminate(host: TerminateHost, graceMs: number): Promise<ProcessInfo[]> {
  const { agent, end } = host;
  let left: ProcessInfo[] = [];
  if (!end.ended) {
    const tree = new ProcessTree([agent.pid]);
    left = leftTheTree(RUN_MARKER, runMarker(host.config.id, host.config.createdAtMs), tree, [agent.pid]);
    await agent.terminate(graceMs, tree);
  }
  await new Promise<void>((r) => end.onEnded(() => r()));
  if (left.length > 0) log(`left running, not the agent's any more (daemonised): ${left.map((p) => `${p.pid} ${p.command}`).join('; ')}`);
  return left;
}
