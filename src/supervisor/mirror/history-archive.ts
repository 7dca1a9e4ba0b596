import type * as Zlib from 'node:zlib';
import { renderChunkLines } from './history-text';
import { ARCHIVE_DEFLATE_LEVEL } from './history-tuning';

// The history that has left xterm's buffer, kept as the chunks the history cache
// serialized (history-cache.ts), compressed: ~100-130 bytes per coloured 120-column line
// serialized, ~17 compressed for source-like lines (5 for the bench's, much alike), in
// Buffers outside V8's heap, against ~1 440 bytes per line as xterm's cells. Each replay
// and capture inflates what it reads: ~5 ms for a full history of 1.3 MB serialized. A
// replay joins the chunks as they were made; a capture of these lines replays the chunks
// it needs into a scratch terminal of the width they were made at (history-text.ts), so
// capture and replay read the same bytes and cannot disagree. Lines here are no longer
// reflowed by a resize.
//
// The chunks are contiguous (each starts at the line after the previous one ends): a chunk
// that would leave a gap means the lines between were lost (a flood skipped them, or they
// left xterm before being serialized), so everything older goes too.

export interface ArchivedChunk {
  /** Absolute numbers of its first and last line. */
  start: number;
  end: number;
  /** The width the lines were serialized at. */
  cols: number;
  bytes: Buffer;
}

/** A chunk as kept: its bytes compressed (raw deflate), and how many they are. */
interface PackedChunk {
  start: number;
  end: number;
  cols: number;
  packed: Buffer;
  size: number;
}

// zlib is loaded with the first chunk archived: an agent with a short history never pays
// it (~2.6 ms of CPU and ~160 KB of heap, measured in a bare Node).
let zlib: typeof Zlib | null = null;
function z(): typeof Zlib {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (zlib ??= require('node:zlib') as typeof Zlib);
}

/**
 * The bytes in memory of their own size: zlib returns its output as a slice of the 16 KiB
 * buffer it wrote into, which a kept slice would hold whole (a chunk compresses to a few KB).
 */
function exact(b: Buffer): Buffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength) return b;
  const own = Buffer.allocUnsafeSlow(b.byteLength);
  b.copy(own);
  return own;
}

/** A chunk's bytes as made, in one buffer: zlib's output room is the size known (by default
 *  it writes 16 KiB pieces and joins them). */
function inflated(c: PackedChunk): Buffer {
  return z().inflateRawSync(c.packed, { chunkSize: Math.max(64, c.size + 1) });
}

export class HistoryArchive {
  private chunks: PackedChunk[] = [];
  /** Bytes held, compressed (for the memory figures). */
  bytes = 0;

  /** The absolute number of the oldest line kept, or null when empty. */
  get first(): number | null {
    return this.chunks[0]?.start ?? null;
  }

  /** The absolute number after the newest line kept, or null when empty. */
  get next(): number | null {
    const last = this.chunks[this.chunks.length - 1];
    return last ? last.end + 1 : null;
  }

  get lineCount(): number {
    const first = this.first;
    return first === null ? 0 : this.next! - first;
  }

  /** Adds the chunk after the newest one; a chunk that leaves a gap drops everything before it. */
  add(chunk: ArchivedChunk): void {
    const next = this.next;
    if (next !== null && chunk.start !== next) {
      if (chunk.end < next) return; // already here (a chunk moved twice)
      this.clear();
    }
    const packed = exact(z().deflateRawSync(chunk.bytes, { level: ARCHIVE_DEFLATE_LEVEL }));
    this.chunks.push({ start: chunk.start, end: chunk.end, cols: chunk.cols, packed, size: chunk.bytes.length });
    this.bytes += packed.length;
  }

  /** Drops the chunks whose every line is older than `line` (the history's bound). */
  keepFrom(line: number): void {
    while (this.chunks.length > 0 && this.chunks[0]!.end < line) this.bytes -= this.chunks.shift()!.packed.length;
  }

  clear(): void {
    this.chunks = [];
    this.bytes = 0;
  }

  /** The serialized chunks, oldest first, as they were made: the history's replay. */
  parts(): Buffer[] {
    return this.chunks.map(inflated);
  }

  /**
   * The lines numbered from `from` to before `to` that are here, as text (trailing blanks
   * trimmed) or with colours (render.ts's form).
   */
  lines(from: number, to: number, ansi: boolean): string[] {
    const both = this.read(from, to, { plain: !ansi, ansi });
    return (ansi ? both.ansi : both.plain)!;
  }

  /** The same lines in both forms, from one replay of their chunks. */
  read(from: number, to: number, want: { plain: boolean; ansi: boolean }): { plain: string[] | null; ansi: string[] | null } {
    const wanted = this.chunks.filter((c) => c.end >= from && c.start < to);
    const rendered = renderChunkLines(
      wanted.map((c) => ({ bytes: inflated(c), cols: c.cols, count: c.end - c.start + 1 })),
      want,
    );
    const pick = (perChunk: string[][] | null): string[] | null => {
      if (!perChunk) return null;
      const out: string[] = [];
      wanted.forEach((c, k) => {
        const rows = perChunk[k]!;
        const hi = Math.min(to - 1, c.end) - c.start;
        for (let i = Math.max(from, c.start) - c.start; i <= hi; i++) out.push(rows[i] ?? '');
      });
      return out;
    };
    return { plain: pick(rendered.plain), ansi: pick(rendered.ansi) };
  }
}
