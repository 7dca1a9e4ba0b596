import type { SerializeAddon } from '@xterm/addon-serialize';
import type { Terminal } from '@xterm/headless';
import type { HistoryArchive } from './history-archive';
import { HISTORY_CHUNK_LINES, HISTORY_MIN_LINES } from './history-tuning';
import { plainRowsText } from './plain-rows';
import { type LineList, normalLines } from './xterm-internals';

// The history serialized in advance, chunk by chunk, as lines enter it: a snapshot then
// makes only the lines after the last whole chunk (less than a chunk, in a chunk's form:
// restText), serializes one line and the screen, and joins the rest. Measured on 5 000
// lines of 120 columns: the first snapshot took 95-124 ms, nearly all of it in the
// serializer (2 cores under load); an attach right after the output paid all of it, since
// the advance snapshot (warm) waits for 500 ms of quiet. History lines never change until
// they leave the buffer (trimmed from the top, cleared by ED 3, reflowed by a resize, or
// replaced by a reset), so a chunk made once stays right; each is checked against the line
// objects it was made from before use.
//
// Each chunk is what the serializer writes for its rows on its own (it starts from the
// default pen, no link open), then a full SGR reset and a line break: joined, they put
// the same cells on the viewer's terminal as one serialization of all the rows. A chunk
// ends only before a line that does not continue it (not wrapped), so every break between
// chunks is a real line break. (Checked cell by cell: test/unit/serialize-roundtrip.test.ts.)

interface Chunk {
  /** Absolute numbers of its first and last line (line-numbers.ts). */
  start: number;
  end: number;
  /** The line objects it was made from: a trimmed or replaced line is not the same object there. */
  first: unknown;
  last: unknown;
  bytes: Buffer;
}

export class HistoryCache {
  private chunks: Chunk[] = [];
  /** The list the chunks were made from. */
  private lines: LineList | null = null;
  /** Bytes held by the chunks still in xterm's buffer (for the memory figures). */
  bytes = 0;

  constructor(
    private readonly term: Terminal,
    private readonly serializer: () => SerializeAddon,
    /** The history that left xterm's buffer: chunks move there when their first line leaves. */
    readonly archive: HistoryArchive,
    /** The absolute number of the normal buffer's first line (lines that left it so far). */
    private readonly base: () => number,
    private readonly chunkLines = HISTORY_CHUNK_LINES,
    private readonly minLines = HISTORY_MIN_LINES,
  ) {}

  /** Forgets every chunk still in xterm's buffer (a resize reflows them). */
  clear(): void {
    this.chunks = [];
    this.bytes = 0;
  }

  /** The line list now; a new one (a reset) drops every chunk still in the buffer. */
  private list(): LineList | null {
    const lines = normalLines(this.term);
    if (lines !== this.lines) {
      this.clear();
      this.lines = lines;
    }
    return lines;
  }

  /** The last line a chunk may end at: two lines above the screen, so that the line after it is history too. */
  private limit(): number {
    return this.term.buffer.normal.baseY - 2;
  }

  /** Too little history to make chunks of (nothing has left the buffer yet). */
  private small(): boolean {
    return this.term.buffer.normal.baseY < this.minLines && this.archive.next === null;
  }

  /** The index in the buffer of the first line no chunk holds (the archive's or ours). */
  firstUnmade(): number {
    const last = this.chunks[this.chunks.length - 1];
    const next = last ? last.end + 1 : (this.archive.next ?? 0);
    return Math.max(0, next - this.base());
  }

  /** Lines of history not in a chunk yet, worth a chunk. */
  behind(): boolean {
    if (this.small()) return false;
    return this.limit() - this.firstUnmade() + 1 >= this.chunkLines;
  }

  /** Makes whole chunks of the history not made yet: at most `max` of them. */
  extend(max = Infinity): void {
    const lines = this.list();
    if (!lines || this.small()) return;
    this.sync(lines);
    let from = this.firstUnmade();
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
   * Serializes every line of the buffer up to `last` (its index) that no chunk holds, whatever
   * their number, and moves every chunk to the archive: the buffer is about to be replaced (RIS).
   */
  archiveAll(last: number): void {
    const lines = this.list();
    if (!lines) return;
    this.sync(lines);
    for (let from = this.firstUnmade(); from <= last; ) {
      let end = Math.min(last, from + this.chunkLines - 1);
      while (this.wrapped(end + 1) && end + 1 < lines.length) end++;
      this.add(lines, from, end);
      from = end + 1;
    }
    for (const c of this.chunks) this.archive.add({ start: c.start, end: c.end, cols: this.term.cols, bytes: c.bytes });
    this.clear();
  }

  /** Moves the chunks whose first line has left the buffer to the archive. */
  moveLeft(): void {
    const lines = this.list();
    if (lines) this.sync(lines);
  }

  /** The chunks that hold the history from its first line on (the archive's, then ours), as of the last moveLeft. */
  parts(): Buffer[] {
    return [...this.archive.parts(), ...this.chunks.map((c) => c.bytes)];
  }

  private wrapped(index: number): boolean {
    return this.term.buffer.normal.getLine(index)?.isWrapped ?? false;
  }

  /**
   * The lines `from` to before `serializedFrom` (buffer indexes) as a chunk's text, to be
   * followed by what the serializer writes from `serializedFrom` on (a snapshot's: one line
   * above the screen, and the screen); null when the line at
   * `serializedFrom` continues them (the break is not a real one: serialize them with the
   * rest instead). `from` is before `serializedFrom`. For a snapshot's rest, not kept: the
   * lines may still change.
   */
  restText(from: number, serializedFrom: number): string | null {
    if (this.wrapped(serializedFrom)) return null;
    return this.chunkText(from, serializedFrom - 1);
  }

  /** What a chunk of the rows `from` to `end` holds: plain rows without the serializer, then a full reset and a line break. */
  private chunkText(from: number, end: number): string {
    const text = plainRowsText(this.term, from, end) ?? this.serializer().serialize({ range: { start: from, end }, excludeAltBuffer: true, excludeModes: true });
    return `${text}\x1b[0m\r\n`;
  }

  private add(lines: LineList, from: number, end: number): void {
    const bytes = Buffer.from(this.chunkText(from, end), 'utf8');
    const base = this.base();
    this.chunks.push({ start: from + base, end: end + base, first: lines.get(from), last: lines.get(end), bytes });
    this.bytes += bytes.length;
  }

  /**
   * Moves the chunks whose first line left the buffer to the archive (their bytes are all
   * there is of those lines now), then drops from the first chunk whose lines changed on.
   */
  private sync(lines: LineList): void {
    const base = this.base();
    while (this.chunks.length > 0 && this.chunks[0]!.start < base) {
      const c = this.chunks.shift()!;
      this.bytes -= c.bytes.length;
      this.archive.add({ start: c.start, end: c.end, cols: this.term.cols, bytes: c.bytes });
    }
    const limit = this.limit();
    for (let i = 0; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      const from = c.start - base;
      const to = c.end - base;
      if (lines.get(from) === c.first && to <= limit && lines.get(to) === c.last && !this.wrapped(to + 1)) continue;
      for (const d of this.chunks.splice(i)) this.bytes -= d.bytes.length;
      return;
    }
  }
}
