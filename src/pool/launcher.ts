import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Account, Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { TmuxClient } from '../tmux/client.js';
import type { SessionStates } from '../sessions/session-states.js';
import { launchCommandLine } from '../claude/launch-command.js';
import { hasTranscript } from './transcript-exists.js';

/**
 * Cleared before Claude Code starts, so the screen left by the previous process (its idle
 * prompt, its limit banner) can never pass for the new process being ready.
 */
const CLEAR_SCREEN = "printf '\\033[3J\\033[H\\033[2J'; ";

export interface LaunchRequest {
  readonly name: string;
  /** Fallback dir when `cwd` is gone (its configured project). */
  readonly project: string;
  /** Respawn this pane in place; null: create the tmux session. */
  readonly paneId: string | null;
  readonly account: Account;
  /** The conversation to resume (or to start under this id when it has no transcript yet). */
  readonly sessionId: string | null;
  readonly cwd: string;
  /** The launch retries a failing session: its last words stay in status. */
  readonly retrying: boolean;
}

export interface Launched {
  readonly sessionId: string;
  readonly resumed: boolean;
  readonly paneId: string;
  readonly cwd: string;
}

/**
 * Starts Claude Code in a pool pane: `CLAUDE_CONFIG_DIR=<home> claude --resume <id>` when the
 * account can see the conversation's transcript, else a fresh conversation under a known id.
 * A new tmux session or a respawn in place (the session name and pane id survive, and an
 * operator attached stays attached).
 */
export class Launcher {
  private readonly deps: { readonly config: Config; readonly tmux: TmuxClient; readonly sessions: SessionStates; readonly logger: Logger; readonly newSessionId?: () => string };

  constructor(deps: Launcher['deps']) {
    this.deps = deps;
  }

  async launch(req: LaunchRequest): Promise<Launched> {
    const cwd = this.launchDir(req);
    const conversation = this.conversation(req.account, req.sessionId, cwd);
    const { command, args, env } = this.deps.config.claude;
    const line = CLEAR_SCREEN + launchCommandLine({ accountHome: req.account.home, command, args, env, ...conversation });
    let paneId = req.paneId;
    if (paneId) await this.deps.tmux.respawnPane({ target: paneId, command: line, cwd, kill: true });
    else paneId = (await this.deps.tmux.newSession({ name: req.name, cwd, command: line, keepPaneOnExit: true })).paneId;
    const sessionId = conversation.resumeId ?? conversation.newSessionId ?? '';
    this.deps.sessions.launched(req.name, { paneId, account: req.account.name, cwd, sessionId, keepLastError: req.retrying });
    this.deps.logger.info({ session: req.name, account: req.account.name, sessionId, resumed: conversation.resumeId !== null }, 'session started');
    return { sessionId, resumed: conversation.resumeId !== null, paneId, cwd };
  }

  /**
   * Resume when the conversation has a transcript the account can see; a known id with no
   * transcript yet (nothing was ever asked) starts fresh under that same id.
   */
  private conversation(account: Account, sessionId: string | null, cwd: string): { resumeId: string | null; newSessionId: string | null } {
    if (sessionId && hasTranscript(account.home, cwd, sessionId)) return { resumeId: sessionId, newSessionId: null };
    return { resumeId: null, newSessionId: sessionId ?? (this.deps.newSessionId ?? randomUUID)() };
  }

  /** Its recorded cwd, or its project when that directory is gone (tmux would start it in the daemon's own). */
  private launchDir(req: LaunchRequest): string {
    if (isDirectory(req.cwd)) return req.cwd;
    this.deps.logger.warn({ session: req.name, cwd: req.cwd, project: req.project }, 'its working directory is gone: starting it in its project dir');
    return req.project;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
