import { InvalidArgumentError } from 'commander';
import { parseSize } from '../recording/settings';

// Option value parsers shared by the verbs.

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

/** Node timers hold at most 2^31-1 ms (24.8 days); longer waits would fire at once. */
export const MAX_SECONDS = 2_000_000;

export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > MAX_SECONDS) throw new InvalidArgumentError(`expected a number of seconds from 0 to ${MAX_SECONDS}`);
  return n;
}

/** `64M`, `1G`, `512K` or bytes. */
export function size(value: string): number {
  const n = parseSize(value);
  if (n === null) throw new InvalidArgumentError('expected a size such as 512K, 64M or 1G');
  return n;
}

export function collect(value: string, previous: unknown): string[] {
  return [...(Array.isArray(previous) ? (previous as string[]) : []), value];
}
