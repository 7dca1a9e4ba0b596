// The fixes we apply to @xterm/addon-serialize's source (the pinned 0.14.0), as exact-text
// replacements: at build time into the supervisor's bundle, or at load time when the
// supervisor runs from its modules (serialize-addon.ts). Pure data and a function, so the
// build script can use it too.
//
// Row flattening: the addon builds a row by appending one cell at a time, and V8 keeps such
// a string as a tree of one node per append until it is read: for 10 000 rows of 120
// columns, ~28 MB of nodes that live through the whole serialization, so they reach the
// old generation and the process keeps the memory. Measured on such a buffer: heap +28 MB
// and 186 ms before, +3 MB and 97 ms after. It is what made a supervisor's peak in a flood
// (the final screen and the snapshot prepared when output goes quiet) pass 150 MiB.

export interface SourcePatch {
  /** What it fixes, for the log when it cannot be applied. */
  why: string;
  /** The exact text in the addon, found exactly once. */
  find: string;
  replace: string;
}

export const SERIALIZE_PATCHES: readonly SourcePatch[] = [
  {
    why: 'each row is flattened when it ends (memory of long histories)',
    find: 'this._allRows[this._rowIndex]=this._currentRow,',
    replace: 'this._currentRow.charCodeAt(0),this._allRows[this._rowIndex]=this._currentRow,',
  },
];

/** The source with every patch applied, or the patches that could not be (another version). */
export function patchSerializeSource(source: string): { source: string; missing: SourcePatch[] } {
  const missing: SourcePatch[] = [];
  let out = source;
  for (const p of SERIALIZE_PATCHES) {
    const at = out.indexOf(p.find);
    if (at < 0 || out.indexOf(p.find, at + 1) >= 0) {
      missing.push(p);
      continue;
    }
    out = out.slice(0, at) + p.replace + out.slice(at + p.find.length);
  }
  return { source: missing.length === 0 ? out : source, missing };
}
