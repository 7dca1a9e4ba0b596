import { Unicode11Addon } from '@xterm/addon-unicode11';
import { Terminal } from '@xterm/headless';
import { flat, renderAnsiLines } from './render';
import { parseNow } from './xterm-internals';

// The lines of a serialized chunk of history (history-archive.ts), read back by replaying
// it into a scratch terminal of the width it was made at: the cells are those the chunk
// puts on a viewer's terminal (checked cell by cell: test/unit/serialize-roundtrip.test.ts).
// Measured: a 256-line chunk of coloured 120-column lines takes ~2-4 ms.

/** Rows of the scratch terminal: a few, the chunk's lines scroll into its scrollback. */
const SCRATCH_ROWS = 4;

/**
 * The `count` lines a chunk holds, in order: plain (xterm's translateToString, trailing
 * blanks kept) or with colours (render.ts).
 */
export function renderChunkLines(bytes: Buffer, cols: number, count: number, ansi: boolean): string[] {
  const t = new Terminal({ cols, rows: SCRATCH_ROWS, scrollback: count + SCRATCH_ROWS, allowProposedApi: true, logLevel: 'off' });
  try {
    t.loadAddon(new Unicode11Addon());
    t.unicode.activeVersion = '11';
    parseNow(t, bytes.toString('utf8'));
    const buf = t.buffer.normal;
    if (ansi) return renderAnsiLines(buf, 0, count, cols);
    const out: string[] = [];
    for (let y = 0; y < count; y++) out.push(flat(buf.getLine(y)?.translateToString(true) ?? ''));
    return out;
  } finally {
    t.dispose();
  }
}
