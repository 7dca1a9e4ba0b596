import type { SerializeAddon } from '@xterm/addon-serialize';
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import { SERIALIZE_HELPERS } from './serialize-helpers';
import { applyPatches } from './serialize-patches';

// @xterm/addon-serialize with its defects fixed where the screen model knows the truth
// (serialize-patches.ts). In the supervisor's bundle the build applied the patches already
// (and the addon's code is part of the one file the supervisor reads at start); run from
// its modules, the supervisor applies them here, to the addon's file read at its start (an
// upgrade may replace node_modules under a running supervisor: nothing is read from there
// later). If any patch's text is not found exactly as often as expected (another version
// of the addon), the addon loads as it is and `missing` names what did not apply: a replay
// then has the old defects, never a half-patched serializer.

/** Defined (true) by the build in the supervisor's bundle. */
declare const SYMPOSIUM_BUNDLE: boolean | undefined;

export interface LoadedSerializeAddon {
  SerializeAddon: typeof SerializeAddon;
  /** Every patch applied. */
  patched: boolean;
  /** Patches whose text was not found as expected (then none is applied). */
  missing: string[];
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

/** The serializer (compiled once, on the first snapshot). */
export function loadSerializeAddon(): LoadedSerializeAddon {
  if (loaded) return loaded;
  if (bundled()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = { SerializeAddon: (require('@xterm/addon-serialize') as typeof import('@xterm/addon-serialize')).SerializeAddon, patched: true, missing: [] };
    return loaded;
  }
  readSerializeAddon();
  const { file, text } = source!;
  source = null;
  const { source: patched, missing } = applyPatches(text);
  const m = new Module(file, module) as Module & { _compile(code: string, filename: string): void; paths: string[]; symposiumHelpers?: unknown };
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  // The helpers reach the patched code as the module's own property: no global.
  m.symposiumHelpers = SERIALIZE_HELPERS;
  m._compile(missing.length > 0 ? text : `var __sx=module.symposiumHelpers;${patched}`, file);
  loaded = { SerializeAddon: (m.exports as typeof import('@xterm/addon-serialize')).SerializeAddon, patched: missing.length === 0, missing };
  return loaded;
}
