// Idle before the agent has drawn anything: never, for this long after its start. The
// three agents tried (Claude Code, Codex, Gemini CLI) were quiet for their idle time (2 s)
// before their first screen: `wait --idle` returned on an empty screen 1-2.6 s after spawn,
// and a task queued at spawn was typed before the first prompt. A program that never draws
// (a silent `cat`) still becomes idle, this long after its start: about four times the
// slowest of those starts, so a loaded machine does not bring the early answer back.
export const START_GRACE_MS = 10_000;
