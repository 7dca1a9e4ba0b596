// Every figure the mirror's history keeping is tuned by, in one place (flow control and
// floods have theirs in ../flood.ts): how much of the history xterm keeps live, when lines
// are serialized as they come, and the chunks they are serialized in. Each says why it is
// what it is; the measures were made on this project's machines (2 cores).

/** Output within this long counts as still coming: history chunks then take turns with the parser. */
export const HISTORY_BUSY_MS = 100;

/** ~12 bytes per cell in xterm's buffer (measured; shared/lessons.md). */
export const BYTES_PER_CELL = 12;

/**
 * Lines of history xterm keeps live (cells, reflowed by a resize, read by capture as they
 * are); older ones are kept serialized (history-archive.ts), ~13 times smaller. Measured
 * in-process (10 000 coloured 120-column lines, 2.5 s after): PSS 22.8 / 23.5 / 24.3 / 26.3
 * MiB with 250 / 500 / 1 000 / 2 000 lines live; the bench's supervisor was at 25.3 [24.2-
 * 27.9] MiB with 500, on the 25 MiB goal. 250: several screens of recent output still
 * reflow on a resize, and a `capture --since` further back replays ~1-3 ms per 256 lines.
 */
export const LIVE_HISTORY_LINES = 250;

/**
 * When xterm must keep more lines than its live window for a while (a burst not serialized
 * yet, a flood), its scrollback grows by at least this much at once: each change of it
 * copies xterm's list of lines.
 */
export const SCROLLBACK_GROW_LINES = 256;

/**
 * A flood skipped part of itself this recently: the lines parsed now will most likely be
 * pushed out by the rest of it, so they are not serialized as they come (xterm's scrollback
 * grows instead, as before the archive; they are serialized once the flood ends). Serializing
 * them costs ~5 times parsing them: a 100 MB flood parses ~10 000 lines per batch.
 */
export const FLOOD_SKIP_QUIET_MS = 1000;

/*
 * A burst (output without a pause of HISTORY_BUSY_MS) has its lines serialized as they come
 * only up to as many lines as the history keeps: past that, it pushes its own first lines
 * out, and what was serialized of them is thrown away; the rest waits in xterm, as before
 * the archive, until the output pauses. A build log (10 000 coloured lines, 1.3 MB) is
 * still serialized as it comes. Measured with a 61 MB plain flood (supervisor CPU, four
 * runs each, load 3-7): 242-309 ticks when a burst's first 4 MB were serialized, 162-224
 * with none, 138-161 before the archive; a full history's PSS was 16.1 MiB with them, 20.0
 * with none (xterm grew, and kept what it freed).
 */

/**
 * Bytes handed to xterm at a time while the history is serialized as it is parsed: what is
 * in flight is what xterm may have to keep live unserialized (scroll-bound.ts counts it), so
 * less of it keeps the buffer near its live window through a burst (Flood.FeedBytes, 256 KiB,
 * is ~2 400 lines of 110 bytes, 16 KiB ~250 counted for coloured ones). The parse is not slowed: xterm takes the next chunk within
 * the same slice.
 */
export const ARCHIVING_FEED_BYTES = 16 * 1024;

/** Lines per chunk of history serialized in advance (history-cache.ts): ~3-6 ms of serializing each, done as the output comes; the part made at a snapshot is at most this plus the screen. */
export const HISTORY_CHUNK_LINES = 256;

/**
 * The zlib level archived chunks are compressed at (history-archive.ts). Measured on the
 * bench's full history (9 728 archived lines, 1.28 MB serialized, 38 chunks): level 1
 * kept 47.1 KB for 0.11 ms of deflate a chunk, level 6 44.5 KB for 0.25 ms; inflating them
 * all for a replay, 5 ms. Source-like coloured lines (grep output) compress ~6 times.
 */
export const ARCHIVE_DEFLATE_LEVEL = 1;

/**
 * Below this much history nothing is made in advance: it serializes in a few ms at an
 * attach, and the serializer itself (~0.8 MB, loaded on first use) would be paid by every
 * agent with a little history (the same reasoning as WARM_MIN_LINES in ../warm-up.ts).
 */
export const HISTORY_MIN_LINES = 1000;
