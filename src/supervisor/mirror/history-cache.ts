import type { SerializeAddon } from '@xterm/addon-serialize';
import type { Terminal } from '@xterm/headless';
import { type LineList, normalLines } from './xterm-internals';

// The history serialized in advance, chunk by chunk, as lines enter it: a snapshot then
// serializes only the lines after the last whole chunk (about one chunk plus the screen)
// and joins the rest. Measured on 5 000 lines of 120 columns: the first snapshot took
// 95-124 ms, nearly all of it in the serializer (2 cores under load); an attach right
// after the output paid all of it, since the advance snapshot (warm) waits for 500 ms of
// quiet. History lines never change until they leave the buffer (trimmed from the top,
// cleared by ED 3, reflowed by a resize, or replaced by a reset), so a chunk made once
// stays right; each is checked against the line objects it was made from before use.
//
// Each chunk is what the serializer writes for its rows on its own (it starts from the
// default pen, no link open), then a full SGR reset and a line break: joined, they put
// the same cells on the viewer's terminal as one serialization of all the rows. A chunk
// ends only before a line that does not continue it (not wrapped), so every break between
// chunks is a real line break. (Checked cell by cell: test/unit/serialize-roundtrip.test.ts.)

/** Lines per chunk: ~3-6 ms of serializing each, done as the output comes; the part made at a snapshot is at most this plus the screen. */
export const HISTORY_CHUNK_LINES = 256;

/**
 * Below this much history nothing is made in advance: it serializes in a few ms at an
 * attach, and the serializer itself (~0.8 MB, loaded on first use) would be paid by every
 * agent with a little history (the same reasoning as the supervisor's WARM_MIN_LINES).
 */
export const HISTORY_MIN_LINES = 1000;

interface Chunk {
  /** Absolute numbers of its first and last line (lines trimmed so far + index). */
  start: number;
  end: number;
  /** The line objects it was made from: a trimmed or replaced line is not the same object there. */
  first: unknown;
  last: unknown;
  bytes: Buffer;
}

export class HistoryCache {
  private chunks: Chunk[] = [];
  /** The list the chunks were made from, and lines trimmed from its top since then. */
  private lines: LineList | null = null;
  private trimmed = 0;
  /** Bytes held (for the memory figures). */
  bytes = 0;

  constructor(
    private readonly term: Terminal,
    private readonly serializer: () => SerializeAddon,
    private readonly chunkLines = HISTORY_CHUNK_LINES,
    private readonly minLines = HISTORY_MIN_LINES,
  ) {}

  /** Forgets every chunk (a resize reflows the history). */
  clear(): void {
    this.chunks = [];
    this.bytes = 0;
  }

  /** The line list now; a new one (a reset) drops every chunk and is listened to. */
  private list(): LineList | null {
    const lines = normalLines(this.term);
    if (lines !== this.lines) {
      this.clear();
      this.lines = lines;
      this.trimmed = 0;
      lines?.onTrim?.call(lines, (n: number) => {
        if (this.lines === lines) this.trimmed += n;
      });
    }
    return lines;
  }

  /** The last line a chunk may end at: two lines above the screen, so that the line after it is history too. */
  private limit(): number {
    return this.term.buffer.normal.baseY - 2;
  }

  /** Lines of history not in a chunk yet, worth a chunk. */
  behind(): boolean {
    if (this.term.buffer.normal.baseY < this.minLines) return false;
    const end = this.chunks.length > 0 ? this.chunks[this.chunks.length - 1]!.end - this.trimmed : -1;
    return this.limit() - end >= this.chunkLines;
  }

  /** Makes whole chunks of the history not made yet: at most `max` of them. */
  extend(max = Infinity): void {
    const lines = this.list();
    if (!lines || this.term.buffer.normal.baseY < this.minLines) return;
    this.dropInvalid(lines);
    let from = this.chunks.length > 0 ? this.chunks[this.chunks.length - 1]!.end - this.trimmed + 1 : 0;
    const limit = this.limit();
    for (let made = 0; made < max && limit - from + 1 >= this.chunkLines; made++) {
      let end = from + this.chunkLines - 1;
      // Never before a continuation line: the break must be a real one.
      while (end < limit && this.wrapped(end + 1)) end++;
      if (this.wrapped(end + 1)) return; // a line wrapped up to the screen: later
      this.add(lines, from, end);
      from = end + 1;
    }
  }

  /**
   * The chunks that hold the history from its first line on, and the index of the first
   * line they do not hold (0: none). Chunks no longer right are dropped; a first chunk
   * partly trimmed is made again from the first line kept.
   */
  prefix(): { parts: Buffer[]; next: number } {
    const lines = this.list();
    if (!lines) return { parts: [], next: 0 };
    this.dropInvalid(lines);
    const first = this.chunks[0];
    if (first && first.start < this.trimmed) {
      // Partly trimmed: what is left of it is made again, from the first line kept.
      this.chunks.shift();
      this.bytes -= first.bytes.length;
      const rest = this.chunks;
      this.chunks = [];
      this.add(lines, 0, first.end - this.trimmed);
      this.chunks.push(...rest);
    }
    const last = this.chunks[this.chunks.length - 1];
    return { parts: this.chunks.map((c) => c.bytes), next: last ? last.end - this.trimmed + 1 : 0 };
  }

  private wrapped(index: number): boolean {
    return this.term.buffer.normal.getLine(index)?.isWrapped ?? false;
  }

  private add(lines: LineList, from: number, end: number): void {
    const text = this.serializer().serialize({ range: { start: from, end }, excludeAltBuffer: true, excludeModes: true });
    const bytes = Buffer.from(`${text}\x1b[0m\r\n`, 'utf8');
    this.chunks.push({ start: from + this.trimmed, end: end + this.trimmed, first: lines.get(from), last: lines.get(end), bytes });
    this.bytes += bytes.length;
  }

  /** Drops chunks trimmed away in whole, and from the first one whose lines changed, all after it. */
  private dropInvalid(lines: LineList): void {
    while (this.chunks.length > 0 && this.chunks[0]!.end < this.trimmed) this.bytes -= this.chunks.shift()!.bytes.length;
    const limit = this.limit();
    for (let i = 0; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      const from = c.start - this.trimmed;
      const to = c.end - this.trimmed;
      const firstOk = from < 0 || lines.get(from) === c.first;
      if (firstOk && to <= limit && lines.get(to) === c.last && !this.wrapped(to + 1)) continue;
      for (const d of this.chunks.splice(i)) this.bytes -= d.bytes.length;
      return;
    }
  }
}
