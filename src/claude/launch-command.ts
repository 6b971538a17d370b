import { shellJoin, shellQuote } from './shell-quote.js';

export interface LaunchSpec {
  /** The account home: becomes CLAUDE_CONFIG_DIR, so the launch never depends on the link. */
  readonly accountHome: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Resume this conversation (`--resume <id>`). */
  readonly resumeId?: string | null;
  /** Start a fresh conversation with this id (`--session-id <id>`), so its id is known from the start. */
  readonly newSessionId?: string | null;
}

const SESSION_ID = /^[A-Za-z0-9-]{8,64}$/;

/**
 * The shell line a pane runs: `CLAUDE_CONFIG_DIR=<home> [K=V...] exec <command> <args> --resume <id>`.
 * Every value is quoted; a session id that does not look like one is refused rather than typed.
 */
export function launchCommandLine(spec: LaunchSpec): string {
  const assignments = [['CLAUDE_CONFIG_DIR', spec.accountHome] as const, ...Object.entries(spec.env)]
    .map(([k, v]) => `${k}=${shellQuote(v)}`)
    .join(' ');
  const argv = [spec.command, ...spec.args];
  if (spec.resumeId) {
    if (!SESSION_ID.test(spec.resumeId)) throw new Error(`refusing to resume a malformed session id: ${JSON.stringify(spec.resumeId)}`);
    argv.push('--resume', spec.resumeId);
  } else if (spec.newSessionId) {
    if (!SESSION_ID.test(spec.newSessionId)) throw new Error(`refusing a malformed session id: ${JSON.stringify(spec.newSessionId)}`);
    argv.push('--session-id', spec.newSessionId);
  }
  return `${assignments} exec ${shellJoin(argv)}`;
}
