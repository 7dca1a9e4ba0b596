// User-facing errors: printed as `Error: <message>` on stderr with their exit code,
// never with a stack trace (SYMPOSIUM_DEBUG=1 shows the details).

export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Exit code of `agent wait` when its timeout passes (as timeout(1)). */
export const EXIT_TIMEOUT = 124;

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export function debugEnabled(): boolean {
  return process.env.SYMPOSIUM_DEBUG === '1';
}
