// The MCP server's limits, in one place, with why each is what it is.

export const Mcp = {
  /**
   * Text in one result, at most (characters). Claude Code refuses results over 25 000
   * tokens and files away those over 50 000 characters; terminal text runs ~3 characters
   * a token and a result carries it twice (the text and the structured content).
   */
  MaxResultChars: 20_000,
  /** An error's text, at most (clients cut theirs at ~11 000 characters). */
  MaxErrorChars: 2_000,
  /**
   * A wait returns `pending` after this long: clients give up on a call after 30 s to
   * 10 min (60 s by default in the SDK's client, progress not extending it unless asked).
   */
  WaitCapMs: 25_000,
  /** How often a wait reports progress (when the client asked for it). */
  ProgressMs: 5_000,
  /** Updates of one subscribed screen, at most this often. */
  ResourceThrottleMs: 500,
  /** How often subscribed screens are looked at for changes. */
  ResourcePollMs: 1_000,
  /** A JSON-RPC line longer than this is skipped with an error (a screen capture is far smaller). */
  MaxLineBytes: 4 * 1024 * 1024,
} as const;

/** Cuts text to `max` characters, keeping the end (the newest lines), on a line boundary when it can. */
export function keepTail(text: string, max: number): { text: string; cut: number } {
  if (text.length <= max) return { text, cut: 0 };
  let start = text.length - max;
  const nl = text.indexOf('\n', start);
  if (nl >= 0 && nl < text.length - 1) start = nl + 1;
  return { text: text.slice(start), cut: start };
}
