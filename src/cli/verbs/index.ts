import type { VerbEntry } from '../verb';
import { attachVerb } from './attach';
import { captureVerb } from './capture';
import { eventsVerb } from './events';
import { killVerb } from './kill';
import { listVerb } from './list';
import { logsVerb } from './logs';
import { pruneVerb } from './prune';
import { queueVerb } from './queue';
import { recordVerb } from './record';
import { restartVerb } from './restart';
import { sendVerb } from './send';
import { spawnVerb } from './spawn';
import { waitVerb } from './wait';

/** The `agent` verbs, in the order --help lists them. */
export const AGENT_VERBS: readonly VerbEntry[] = [
  spawnVerb,
  listVerb,
  attachVerb,
  killVerb,
  sendVerb,
  queueVerb,
  captureVerb,
  waitVerb,
  eventsVerb,
  logsVerb,
  recordVerb,
  restartVerb,
  pruneVerb,
];
