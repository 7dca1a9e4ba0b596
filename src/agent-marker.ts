// The marker each agent's environment carries, naming its session and run: processes the
// agent started keep it (unless they clear their environment), so `agent kill` can tell
// the ones that left the agent's process tree (daemonised themselves) from strangers.

export const RUN_MARKER = 'SYMPOSIUM_AGENT_RUN';

/** `ID@CREATED_MS`: the session id and its run's creation time (the record's created_at). */
export function runMarker(id: string, createdAtMs: number): string {
  return `${id}@${createdAtMs}`;
}
