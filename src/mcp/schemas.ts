import { z } from 'zod';
import type { AgentInfo, AgentStatus, Task } from '../client/types';
import { STATE_NAMES, type StateName, TASK_STATES, type TaskState } from '../protocol/events';

// The shapes of what the tools return, as JSON Schema for the client (the SDK derives it
// from these) and as the types our handlers must produce. They mirror the client library's
// types (src/client/types.ts): times are ISO 8601 strings.

const nullableInt = z.number().int().nullable();
const nullableStr = z.string().nullable();

export const agentShape = {
  id: z.string(),
  sessionName: z.string(),
  backend: z.enum(['pty', 'tmux']),
  status: z.enum(['Starting', 'Running', 'Crashed', 'Stopped']),
  reason: nullableStr,
  command: z.array(z.string()),
  workdir: z.string(),
  createdAt: z.string(),
  lastAttached: nullableStr,
  endedAt: nullableStr,
  pid: nullableInt,
  supervisorPid: nullableInt,
  exitCode: nullableInt,
  exitSignal: nullableStr,
  cols: nullableInt,
  rows: nullableInt,
  viewers: nullableInt,
  activity: z.enum(['working', 'idle']).nullable().describe('the two words of earlier versions; see state'),
  state: z.enum(STATE_NAMES as [StateName, ...StateName[]]).nullable().describe('starting, working, idle, blocked (asks the user something), exited, unknown'),
  stateReason: nullableStr.describe('why: "quiet for 2 s", "hook: Stop", "notification: …"'),
  stateSince: nullableStr,
  lastOutputAt: nullableStr,
  queued: nullableInt,
  responding: z.boolean().nullable().describe('false: its supervisor did not answer in time (stopped or swamped)'),
};
export const agentSchema = z.object(agentShape);
export type AgentOut = z.infer<typeof agentSchema>;

export const statusShape = { ...agentShape, idleMs: nullableInt, title: nullableStr };

export const taskSchema = z.object({
  index: z.number().int(),
  text: z.string(),
  state: z.enum(TASK_STATES as [TaskState, ...TaskState[]]).describe('queued, typed, submitted, started (the agent reacted), done (idle or blocked again)'),
  queuedAt: z.string(),
  typedAt: nullableStr,
  submittedAt: nullableStr,
  startedAt: nullableStr,
  doneAt: nullableStr,
  doneState: z.enum(['idle', 'blocked', 'exited']).nullable(),
  firstLine: nullableInt.describe('capture with since=firstLine shows the turn'),
  endLine: nullableInt,
  deliveredAt: nullableStr.describe('the same as submittedAt'),
  sent: z.boolean().describe('typed by send with enter (at once), not queued'),
});

export const captureShape = {
  id: z.string(),
  status: z.enum(['Starting', 'Running', 'Crashed', 'Stopped']),
  text: z.string(),
  cols: z.number().int(),
  rows: z.number().int(),
  final: z.boolean().describe('the agent has ended: this is its last screen'),
  firstLine: nullableInt.describe('the number of the first line of text in the agent history'),
  nextLine: nullableInt.describe('pass as `since` next time to read only what came after (null: not available)'),
  skipped: z.number().int().describe('lines asked for with `since` that had already left the history'),
  alternate: z.boolean().describe('a full-screen program shows its own screen: text is that screen, `since` does not apply'),
  truncated: z.boolean().describe('text was cut to its newest part; ask with `lines` or `since` for less'),
};

export const waitShape = {
  id: z.string(),
  status: z
    .enum(['satisfied', 'timeout', 'ended', 'pending'])
    .describe('pending: still waiting at the server cap; call wait again with the same arguments'),
  waitedMs: z.number().int(),
  match: nullableStr,
  exitCode: nullableInt,
  exitSignal: nullableStr,
  state: z.enum(STATE_NAMES as [StateName, ...StateName[]]).nullable().describe('the state when answered'),
  task: taskSchema.nullable().describe('for until "task": the task and its receipts'),
  next: nullableStr.describe('what to call to go on, when pending'),
};

export const eventShape = z
  .object({ id: z.string(), seq: z.number().int(), at: z.string(), type: z.string() })
  .catchall(z.unknown())
  .describe('one event: spawned, state (state, from, reason), task (task, state), viewer, resize, notification (text, source), exited (code, signal, reason)');

export const eventsShape = {
  events: z.array(eventShape),
  next: z.number().int().describe('pass as since next time (per agent when several: see nextById)'),
  nextById: z.record(z.string(), z.number().int()).describe('for each agent, the since of the next call'),
  lost: z.number().int().describe('events asked for that were no longer held'),
};

// The schemas must list exactly the library's fields: a field added there and not here is
// refused by the SDK at run time ("must NOT have additional properties"); make it a type error.
type SameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : never;
const agentKeysMatch: SameKeys<AgentOut, AgentInfo> = true;
const statusKeysMatch: SameKeys<z.infer<z.ZodObject<typeof statusShape>>, AgentStatus> = true;
const taskKeysMatch: SameKeys<z.infer<typeof taskSchema>, Task> = true;
void taskKeysMatch;
void agentKeysMatch;
void statusKeysMatch;
