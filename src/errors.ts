/**
 * A fault (not an expected outcome): something on the machine did not behave.
 * `code` is stable for callers to branch on; `cause` keeps the original error.
 */
export class FailoverError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FailoverError';
    this.code = code;
  }
}

/** The message of anything thrown, for logs and notes. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The errno code of a Node system error (ENOENT, EACCES, ...), if it has one. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
