import { Unicode11Addon } from '@xterm/addon-unicode11';
import { Terminal } from '@xterm/headless';
import { flat, renderAnsiLines } from './render';
import { parseNow } from './xterm-internals';

// The lines of serialized chunks of history (history-archive.ts), read back by replaying
// them into a scratch terminal of the width they were made at: the cells are those the
// chunk puts on a viewer's terminal (checked cell by cell: test/unit/serialize-roundtrip.test.ts).
// The chunks of a read are written one after the other into one scratch terminal per
// width, as a replay joins them (each chunk ends with its lines' break), and each chunk's
// lines are read right after it is parsed, while they are the last ones above the cursor:
// its scrollback stays one chunk deep and, once full, recycles its lines (a terminal made
// or reset per chunk allocated 10 000 lines' cells for a 10 000-line read, ~400 ms).

/** Rows of the scratch terminal: a few, the chunk's lines scroll into its scrollback. */
const SCRATCH_ROWS = 4;

export interface ChunkToRead {
  bytes: Buffer;
  cols: number;
  /** Lines it holds. */
  count: number;
}

/** The lines of a read, chunk after chunk: plain (xterm's translateToString, trailing blanks kept), with colours (render.ts), or both. */
export interface ChunkLines {
  plain: string[][] | null;
  ansi: string[][] | null;
}

/** The lines the chunks hold, in the forms asked for: both from one replay (the final screen wants both). */
export function renderChunkLines(chunks: ChunkToRead[], want: { plain: boolean; ansi: boolean }): ChunkLines {
  const deepest = Math.max(0, ...chunks.map((c) => c.count));
  const terms = new Map<number, Terminal>();
  const out: ChunkLines = { plain: want.plain ? [] : null, ansi: want.ansi ? [] : null };
  try {
    for (const c of chunks) {
      let t = terms.get(c.cols);
      if (!t) {
        t = new Terminal({ cols: c.cols, rows: SCRATCH_ROWS, scrollback: deepest + SCRATCH_ROWS, allowProposedApi: true, logLevel: 'off' });
        t.loadAddon(new Unicode11Addon());
        t.unicode.activeVersion = '11';
        terms.set(c.cols, t);
      }
      parseNow(t, c.bytes.toString('utf8'));
      const buf = t.buffer.normal;
      // The chunk's lines are the `count` lines above the cursor's (its last line break).
      const first = buf.baseY + buf.cursorY - c.count;
      out.ansi?.push(renderAnsiLines(buf, first, first + c.count, c.cols));
      if (out.plain) {
        const lines: string[] = [];
        for (let y = first; y < first + c.count; y++) lines.push(flat(buf.getLine(y)?.translateToString(true) ?? ''));
        out.plain.push(lines);
      }
    }
    return out;
  } finally {
    for (const t of terms.values()) t.dispose();
  }
}
