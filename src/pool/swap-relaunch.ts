import type { Account } from '../config/types.js';
import type { Logger } from '../log.js';
import type { TmuxClient } from '../tmux/client.js';
import type { SessionStates } from '../sessions/session-states.js';
import { conversationEnd } from '../claude/conversation-tail.js';
import { describeError } from '../errors.js';
import type { PoolSessionSpec } from './pool-spec.js';
import type { Launcher } from './launcher.js';
import { lastWords, waitForScreen } from './session-waits.js';
import { transcriptFor } from './transcript-exists.js';
import { deliverPrompt, type DeliveryDeps } from './deliver-prompt.js';
import type { RelaunchOutcome, SessionSnapshot } from './swap-types.js';

/** Two Ctrl-C back to back are taken by Claude Code as one: the second must come apart. */
const CTRL_C_GAP_MS = 300;
/** How long a working session gets to exit on its own before the relaunch kills it. */
const STOP_TIMEOUT_MS = 3000;

export interface SwapRelaunchDeps {
  readonly tmux: TmuxClient;
  readonly sessions: SessionStates;
  readonly launcher: Launcher;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  readonly delivery: DeliveryDeps;
  /** The transcript a session writes now (its running process's id, else the registry's). */
  readonly transcriptOf: (name: string, account: Account) => Promise<string | null>;
  readonly readyTimeoutMs?: number;
}

/**
 * The pool's half of a swap: stop every session, decide from each transcript which
 * conversations were cut off, start them again on the target, and deliver the continuation
 * until Claude Code confirms it.
 */
export class SwapRelaunch {
  private readonly deps: SwapRelaunchDeps;

  constructor(deps: SwapRelaunchDeps) {
    this.deps = deps;
  }

  /**
   * Stops every session of the snapshot and returns the ones that were working (their turn
   * was interrupted by the stop). What does not exit is killed by the relaunch.
   */
  async stopAll(snapshot: readonly SessionSnapshot[]): Promise<Set<string>> {
    const interrupted = new Set<string>();
    await Promise.all(
      snapshot.map(async (s) => {
        if (await this.stopOne(s)) interrupted.add(s.name);
      }),
    );
    return interrupted;
  }

  /**
   * An idle session, or one blocked by a limit, has written its transcript: the relaunch's
   * kill loses nothing, so it is not waited for. A working one gets Claude Code's own exit:
   * Ctrl-C, a pause (two back to back are taken as one), Ctrl-C. Returns whether it was working.
   */
  private async stopOne(session: SessionSnapshot): Promise<boolean> {
    if (!session.paneId || this.deps.sessions.get(session.name)?.state !== 'working') return false;
    const { tmux, sleep } = this.deps;
    try {
      if ((await tmux.paneInfo(session.paneId)).dead) return false;
      await tmux.sendKeys(session.paneId, ['C-c']);
      await sleep(CTRL_C_GAP_MS);
      if ((await tmux.paneInfo(session.paneId)).dead) return true;
      await tmux.sendKeys(session.paneId, ['C-c']);
      const deadline = this.deps.now().getTime() + STOP_TIMEOUT_MS;
      while (this.deps.now().getTime() < deadline) {
        if ((await tmux.paneInfo(session.paneId)).dead) return true;
        await sleep(50);
      }
    } catch {
      // gone already, or tmux hiccup: respawn -k settles it
    }
    return true;
  }

  /**
   * Whether the conversation was cut off, from its transcript now that its process has
   * stopped: a prompt or tool result left unanswered, a limit record with nothing after it,
   * or a turn our stop interrupted. Not from the snapshot, which is older than the stop.
   */
  async needsContinuation(session: SessionSnapshot, account: Account, interruptedByStop: boolean): Promise<boolean> {
    const transcript = session.sessionId ? transcriptFor(account.home, session.cwd, session.sessionId) : null;
    const end = transcript ? await conversationEnd(transcript) : 'empty';
    this.deps.logger.debug({ session: session.name, end, working: session.working, interruptedByStop }, 'how the conversation ended');
    switch (end) {
      case 'awaiting-answer':
      case 'limited':
        return true;
      case 'interrupted':
        // Our own Ctrl-C ends a turn this way; so does an operator's Escape, which is left alone.
        return interruptedByStop || session.working;
      case 'answered':
        return false;
      case 'empty':
        return transcript === null && session.working;
    }
  }

  /** Starts the session on `account` and, when it needs one, delivers `prompt` once it is ready. */
  async relaunchOne(spec: PoolSessionSpec, session: SessionSnapshot, account: Account, prompt: string | null): Promise<RelaunchOutcome> {
    const { sessions } = this.deps;
    const failed = (sessionId: string | null, resumed: boolean, error: string): RelaunchOutcome => {
      sessions.failed(session.name, error);
      return { name: session.name, sessionId, resumed, prompted: false, continuation: prompt ? 'not-delivered' : 'not-needed', ok: false, error };
    };
    try {
      const paneId = session.paneId && (await this.deps.tmux.hasSession(session.name)) ? session.paneId : null;
      const launched = await this.deps.launcher.launch({ name: session.name, project: spec.project, paneId, account, sessionId: session.sessionId, cwd: session.cwd, retrying: false });
      // The screen was cleared before Claude Code started: a prompt on it is the new process's.
      const ready = await waitForScreen(this.deps.tmux, launched.paneId, ['idle', 'limited'], ['shell', 'login-needed', 'trust-dialog', 'bypass-dialog'], {
        timeoutMs: this.deps.readyTimeoutMs ?? 60_000,
        intervalMs: 50,
        now: this.deps.now,
        sleep: this.deps.sleep,
      });
      if (!ready.reached) return failed(launched.sessionId, launched.resumed, `not ready after relaunch (${ready.state}): ${lastWords(ready.capture, 3)}`);
      sessions.ready(session.name);
      const base = { name: session.name, sessionId: launched.sessionId, resumed: launched.resumed };
      if (!prompt) return { ...base, prompted: false, continuation: 'not-needed', ok: true, error: null };
      const transcript = () => this.deps.transcriptOf(session.name, account);
      const delivery = await deliverPrompt(this.deps.delivery, { name: session.name, target: launched.paneId, transcript }, prompt);
      if (!delivery.delivered) return failed(launched.sessionId, launched.resumed, `the continuation prompt was not delivered (typed ${delivery.attempts} times, never confirmed by Claude Code)`);
      this.deps.logger.info({ session: session.name, sessionId: launched.sessionId, attempts: delivery.attempts }, 'continuation delivered');
      return { ...base, prompted: true, continuation: 'delivered', ok: true, error: null };
    } catch (err) {
      return failed(session.sessionId, false, describeError(err));
    }
  }
}
