import * as path from 'node:path';
import { Bundle } from './bundle-file';

// Starts the CLI from its one-file bundle with V8's code cache (bundle-file.ts), both made
// by the build (scripts/bundle.js). Start-up is part of what a user waits for on every
// command, `attach` most of all: loaded as ~45 modules (resolved, read and compiled one by
// one) the CLI took ~26 ms before `attach` could connect; the bundle with its cache takes
// ~5. Without a bundle (only `tsc` ran) the modules load as they are. This file and
// bundle-file.ts are the only ones of ours that the CLI loads through Node's module loader.

export const CLI_BUNDLE = new Bundle(path.join(__dirname, 'cli.bundle.js'), 'symposium build', 'latin1');

export function launch(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cli = CLI_BUNDLE.start<{ run: () => void }>() ?? (require('./cli/main') as { run: () => void });
  cli.run();
}
