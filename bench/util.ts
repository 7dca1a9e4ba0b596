import { type ChildProcess, spawn } from 'node:child_process';

// Small helpers shared by the benchmark: a monotonic clock, statistics, bounded waits and
// child processes that are always reaped (every one of them has a timeout).

/** Milliseconds on a monotonic clock. */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An error that the benchmark explains to the user (no stack trace needed). */
export class BenchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchError';
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100): the smallest sample with at least p% at or below it. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1]!;
}

/** Polls `fn` every `stepMs` until it returns true; throws a BenchError naming `what` on timeout. */
export async function waitUntil(fn: () => boolean | Promise<boolean>, timeoutMs: number, what: string, stepMs = 5): Promise<number> {
  const deadline = now() + timeoutMs;
  for (;;) {
    if (await fn()) return now();
    if (now() > deadline) throw new BenchError(`timed out after ${Math.round(timeoutMs)} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** Rejects with a BenchError when `p` has not settled within `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BenchError(`timed out after ${Math.round(ms)} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export interface ProcResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** When the child was started and when its exit was seen (monotonic ms). */
  startedAt: number;
  endedAt: number;
}

/** Every child the benchmark started and has not reaped yet: killed on Ctrl-C. */
export const liveChildren = new Set<ChildProcess>();

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs: number;
  /** Throw a BenchError when the exit code is not 0 (default true). */
  check?: boolean;
}

/** A running child with a promise of its result. */
export interface Running {
  child: ChildProcess;
  result: Promise<ProcResult>;
}

export function start(file: string, args: string[], opts: RunOptions): Running {
  const startedAt = now();
  const child = spawn(file, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const what = [file, ...args].join(' ');
  const result = new Promise<ProcResult>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      reject(new BenchError(`cannot run ${what}: ${err.message}`));
    });
    // 'exit' rather than 'close': the moment the process ended, not when its pipes drained
    // (a daemon child could hold them open). Output is collected on 'close' just after.
    child.on('exit', (code, signal) => {
      const endedAt = now();
      clearTimeout(timer);
      const finish = (): void => {
        liveChildren.delete(child);
        const res: ProcResult = { code, signal, stdout, stderr, startedAt, endedAt };
        if (timedOut) {
          reject(new BenchError(`${what} did not finish within ${opts.timeoutMs} ms${stderr ? `: ${stderr.trim()}` : ''}`));
        } else if (opts.check !== false && code !== 0) {
          const why = (stderr.trim() || stdout.trim() || `exit ${code ?? signal}`).split('\n').slice(0, 6).join('\n');
          reject(new BenchError(`${what} failed (exit ${code ?? signal}): ${why}`));
        } else {
          resolve(res);
        }
      };
      // Give the pipes a moment to deliver the last output, but never wait for a grandchild.
      let done = false;
      const once = (): void => {
        if (!done) {
          done = true;
          finish();
        }
      };
      child.on('close', once);
      setTimeout(once, 200);
    });
  });
  return { child, result };
}

export function run(file: string, args: string[], opts: RunOptions): Promise<ProcResult> {
  return start(file, args, opts).result;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
  return out;
}

export const MiB = 1024 * 1024;
