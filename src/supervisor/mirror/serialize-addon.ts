import type { SerializeAddon } from '@xterm/addon-serialize';
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';

// @xterm/addon-serialize with one fix: each row's text is flattened when the row ends.
// The addon builds a row by appending one cell at a time, and V8 keeps such a string as a
// tree of one node per append until it is read: for 10 000 rows of 120 columns, ~28 MB of
// nodes that live through the whole serialization, so they reach the old generation and
// the process keeps the memory. Measured on such a buffer: heap +28 MB and 186 ms before,
// +3 MB and 97 ms after. It is what made a supervisor's peak in a flood (the final screen
// and the snapshot prepared when output goes quiet) pass 150 MiB.
//
// The addon's code is not ours to edit in node_modules, so its file is loaded with the
// fix applied (package.json pins the version it was written for). If the text to patch is
// not found (another version), the addon loads as it is and `patched` says so.

/** The exact text in addon-serialize 0.14.0, and the same with the row read once (flattened). */
const ROW_END = 'this._allRows[this._rowIndex]=this._currentRow,';
const ROW_END_FLAT = 'this._currentRow.charCodeAt(0),this._allRows[this._rowIndex]=this._currentRow,';

export interface LoadedSerializeAddon {
  SerializeAddon: typeof SerializeAddon;
  /** Whether the fix was applied. */
  patched: boolean;
}

let loaded: LoadedSerializeAddon | null = null;

export function loadSerializeAddon(): LoadedSerializeAddon {
  if (loaded) return loaded;
  const file = require.resolve('@xterm/addon-serialize');
  const source = fs.readFileSync(file, 'utf8');
  const at = source.indexOf(ROW_END);
  if (at < 0 || source.indexOf(ROW_END, at + 1) >= 0) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = { SerializeAddon: (require('@xterm/addon-serialize') as typeof import('@xterm/addon-serialize')).SerializeAddon, patched: false };
    return loaded;
  }
  const m = new Module(file, module) as Module & { _compile(code: string, filename: string): void; paths: string[] };
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  m._compile(source.replace(ROW_END, ROW_END_FLAT), file);
  loaded = { SerializeAddon: (m.exports as typeof import('@xterm/addon-serialize')).SerializeAddon, patched: true };
  return loaded;
}
