import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { UserError } from './errors';

// The user's `agent wait --text` pattern. A backtracking regex can take exponential time
// (`(a+)+b` on a line of 40 a's runs for hours), and in the supervisor that would freeze the
// agent and every viewer with it. So a pattern runs on V8's linear-time engine when it can
// (no backreferences, lookarounds or huge counts: nearly every prompt pattern), and
// otherwise under a time limit that fails the wait with a clear error instead.

/** How long one match of a pattern the linear engine refused may take. */
export const PATTERN_TIME_LIMIT_MS = 200;

export class PatternTooSlow extends Error {
  constructor(readonly source: string) {
    super(
      `the pattern /${source}/ took more than ${PATTERN_TIME_LIMIT_MS} ms to match the screen ` +
        '(it backtracks exponentially): simplify it, e.g. without nested repetition or backreferences',
    );
  }
}

let linearEngine: boolean | null = null;

/** The `l` flag needs a V8 flag; it only changes what `l` means, so enabling it late is fine. */
function linearAvailable(): boolean {
  if (linearEngine === null) {
    try {
      v8.setFlagsFromString('--enable-experimental-regexp-engine');
      linearEngine = new RegExp('a', 'l').flags.includes('l');
    } catch {
      linearEngine = false;
    }
  }
  return linearEngine;
}

const JOB = Symbol.for('symposium.text-pattern.job');
let limitedScript: vm.Script | null = null;

/** Runs `fn` and interrupts it after `ms` (V8 stops a running regex too). */
function withTimeLimit<T>(fn: () => T, ms: number): T {
  limitedScript ??= new vm.Script(`globalThis[Symbol.for('symposium.text-pattern.job')]()`);
  const g = globalThis as unknown as Record<symbol, unknown>;
  g[JOB] = fn;
  try {
    return limitedScript.runInThisContext({ timeout: ms }) as T;
  } finally {
    delete g[JOB];
  }
}

export class TextPattern {
  private constructor(
    private readonly re: RegExp,
    /** Matched by the linear engine: no time limit needed. */
    readonly linear: boolean,
  ) {}

  /** Throws SyntaxError for an invalid pattern. */
  static compile(pattern: string, flags = ''): TextPattern {
    // "g" and "y" would make a match depend on the previous one.
    const f = flags.replace(/[gy]/g, '');
    const re = new RegExp(pattern, f);
    if (linearAvailable()) {
      try {
        return new TextPattern(new RegExp(pattern, `${f}l`), true);
      } catch {
        /* not expressible in linear time: backtracking, under a time limit */
      }
    }
    return new TextPattern(re, false);
  }

  get source(): string {
    return this.re.source;
  }

  /** The first match in `text`; throws PatternTooSlow when a backtracking match runs too long. */
  exec(text: string): string | undefined {
    if (this.linear) return this.re.exec(text)?.[0];
    try {
      return withTimeLimit(() => this.re.exec(text)?.[0], PATTERN_TIME_LIMIT_MS);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new PatternTooSlow(this.re.source);
      throw err;
    }
  }
}

/** One match in `text`, for the CLI: a pattern too slow is the user's error (after `prefix`). */
export function matchForUser(re: TextPattern, text: string, prefix = ''): string | undefined {
  try {
    return re.exec(text);
  } catch (err) {
    if (err instanceof PatternTooSlow) throw new UserError(`${prefix}${err.message}`);
    throw err;
  }
}
