import { FailoverError } from '../errors.js';

export type TmuxErrorCode = 'TMUX_FAILED' | 'TMUX_TIMEOUT' | 'TMUX_NOT_FOUND' | 'TMUX_NO_SERVER' | 'TMUX_BAD_ARGUMENT';

/** A tmux call that failed; keeps tmux's own stderr, the arguments and the exit code. */
export class TmuxError extends FailoverError {
  readonly stderr: string;
  readonly args: readonly string[];
  readonly exitCode: number | null;

  constructor(code: TmuxErrorCode, message: string, details: { stderr: string; args: readonly string[]; exitCode: number | null; cause?: unknown }) {
    super(code, message, { cause: details.cause });
    this.name = 'TmuxError';
    this.stderr = details.stderr;
    this.args = details.args;
    this.exitCode = details.exitCode;
  }
}

/**
 * tmux's ways of saying that no server runs on the socket: the socket file is missing
 * (ENOENT) or nothing listens on it (ECONNREFUSED, "no server running on"). Any other
 * "No such file or directory" (a missing cwd, config or command) is a real failure.
 */
export function isNoServer(stderr: string): boolean {
  return /no server running on |error connecting to .*\((No such file or directory|Connection refused)\)|failed to connect to server/i.test(stderr);
}

/**
 * A server that is up with no session left (it exits soon, or runs with exit-empty off):
 * `list-panes -a` has no session to start from and says so. Nothing to list, not a fault.
 */
export function isEmptyServer(stderr: string): boolean {
  return /^no current target$/im.test(stderr.trim());
}

/** has-session's answer for a session that does not exist (as opposed to a failure). */
export function isNoSuchSession(stderr: string): boolean {
  return /can't find session|no such session/i.test(stderr);
}

/**
 * A command that reached a server on its way out (`kill-server` returns before the server has
 * gone; so does killing its last session): tmux drops the command unanswered. Said alone, on
 * its own line; nothing else ran, so a read or a creation can be sent again.
 */
export function isServerExited(stderr: string): boolean {
  return /^server exited unexpectedly$/m.test(stderr.trim());
}
