import type { SerializeAddon } from '@xterm/addon-serialize';
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import { patchSerializeSource } from './serialize-patches';

// @xterm/addon-serialize with our fixes (serialize-patches.ts). In the supervisor's bundle
// the build applied them already (and the addon's code is part of the one file the
// supervisor reads at start); run from its modules, the supervisor applies them here, to
// the addon's file read at start (an upgrade may replace node_modules under a running
// supervisor: nothing is read from there later). If a patch's text is not found (another
// version of the addon), it loads as it is and `patched` says so.

/** Defined (true) by the build in the supervisor's bundle. */
declare const SYMPOSIUM_BUNDLE: boolean | undefined;

export interface LoadedSerializeAddon {
  SerializeAddon: typeof SerializeAddon;
  /** Whether the fixes were applied. */
  patched: boolean;
}

let source: { file: string; text: string } | null = null;
let loaded: LoadedSerializeAddon | null = null;

function bundled(): boolean {
  return typeof SYMPOSIUM_BUNDLE !== 'undefined' && SYMPOSIUM_BUNDLE;
}

/** Reads the addon's file now (the supervisor's start), to compile it later. */
export function readSerializeAddon(): void {
  if (bundled() || source) return;
  const file = require.resolve('@xterm/addon-serialize');
  source = { file, text: fs.readFileSync(file, 'utf8') };
}

export function loadSerializeAddon(): LoadedSerializeAddon {
  if (loaded) return loaded;
  if (bundled()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = { SerializeAddon: (require('@xterm/addon-serialize') as typeof import('@xterm/addon-serialize')).SerializeAddon, patched: true };
    return loaded;
  }
  readSerializeAddon();
  const { file, text } = source!;
  const { source: patched, missing } = patchSerializeSource(text);
  const m = new Module(file, module) as Module & { _compile(code: string, filename: string): void; paths: string[] };
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  m._compile(patched, file);
  loaded = { SerializeAddon: (m.exports as typeof import('@xterm/addon-serialize')).SerializeAddon, patched: missing.length === 0 };
  source = null;
  return loaded;
}
