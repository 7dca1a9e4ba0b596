import * as path from 'node:path';
import { Bundle } from '../launch';
import { mappedText } from '../sys/native-addon';
import type { Rehearsal } from './entry';

// Starts the supervisor from its one-file bundle with V8's code cache (../launch.ts),
// without them (only `tsc` ran) from its modules. Compiling the 1 MB bundle was ~60 ms of
// each spawn at load ~2, ~25 ms with the cache.
//
// The cache is made under the supervisor's own Node flags (V8 takes a cache only under the
// flags it was made with), after the bundle's modules were loaded, so it holds what every
// supervisor compiles at start and no more.
//
// A supervisor keeps its bundle's source for as long as it runs (V8 compiles each function
// from it when first called). The build makes it ASCII only, so it is taken as a map of the
// file (sys/native-addon.ts, mappedText): pages of the page cache, shared by all
// supervisors, instead of 0.65 MB of V8's heap in each.

export const SUPERVISOR_BUNDLE = new Bundle(
  path.join(__dirname, '..', 'supervisor.bundle.js'),
  'symposium supervisor build',
  'latin1',
  'cache',
  false,
  mappedText,
);

/** The bundle's entry (entry.ts). */
export interface SupervisorEntry {
  run: () => void;
  runHere: (configPath: string, tell: (line: string) => void) => Promise<void>;
  loadAll: () => void;
  rehearse: () => Promise<Rehearsal>;
}

export function launchSupervisor(): void {
  const entry = SUPERVISOR_BUNDLE.start<SupervisorEntry>();
  if (entry) entry.run();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  else require('./main');
}

let entry: SupervisorEntry | null = null;

/** The supervisor's entry for a process that becomes one (the spawning CLI's, start-supervisor.ts), loaded once (a standby loads it ahead, src/standby/serve.ts). */
export function supervisorEntry(): SupervisorEntry {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (entry ??= SUPERVISOR_BUNDLE.start<SupervisorEntry>() ?? (require('./entry') as SupervisorEntry));
}

if (require.main === module) launchSupervisor();
