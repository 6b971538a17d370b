import type { Account } from '../config/types.js';
import type { Logger } from '../log.js';
import type { TmuxClient } from '../tmux/client.js';
import type { SessionStates } from '../sessions/session-states.js';
import { conversationEnd } from '../claude/conversation-tail.js';
import { describeError } from '../errors.js';
import { classifyScreen } from '../claude/screen-state.js';
import type { PoolSessionSpec } from './pool-spec.js';
import type { Launcher } from './launcher.js';
import { lastWords, waitForScreen } from './session-waits.js';
import { transcriptFor } from './transcript-exists.js';
import { deliverPrompt, type DeliveryDeps } from './deliver-prompt.js';
import type { RelaunchOutcome, SessionSnapshot } from './swap-types.js';

/** How a session was found when the swap stopped it. */
export type StoppedAs = 'working' | 'limited' | 'idle';

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
   * Stops every session of the snapshot and says how each was found: working (its turn was
   * interrupted by the stop), limited, or idle. What does not exit is killed by the relaunch.
   */
  async stopAll(snapshot: readonly SessionSnapshot[]): Promise<Map<string, StoppedAs>> {
    const found = new Map<string, StoppedAs>();
    await Promise.all(
      snapshot.map(async (s) => {
        found.set(s.name, await this.stopOne(s));
      }),
    );
    return found;
  }

  /**
   * An idle session, or one blocked by a limit, has written its transcript: the relaunch's
   * kill loses nothing, so it is not waited for (Ctrl-C does not even exit one waiting to
   * continue after a limit). A working one gets Claude Code's own exit: Ctrl-C, a pause (two
   * back to back are taken as one), Ctrl-C.
   */
  private async stopOne(session: SessionSnapshot): Promise<StoppedAs> {
    const state = this.deps.sessions.get(session.name)?.state;
    if (state === 'limited') return 'limited';
    if (!session.paneId || state !== 'working') return 'idle';
    const { tmux, sleep } = this.deps;
    try {
      if ((await tmux.paneInfo(session.paneId)).dead) return 'working';
      // The hook may not have said so yet: a limit banner on screen is a limit.
      if (classifyScreen(await tmux.capturePane(session.paneId, 30), { now: this.deps.now() }).state === 'limited') return 'limited';
      await tmux.sendKeys(session.paneId, ['C-c']);
      await sleep(CTRL_C_GAP_MS);
      if ((await tmux.paneInfo(session.paneId)).dead) return 'working';
      await tmux.sendKeys(session.paneId, ['C-c']);
      const deadline = this.deps.now().getTime() + STOP_TIMEOUT_MS;
      while (this.deps.now().getTime() < deadline) {
        if ((await tmux.paneInfo(session.paneId)).dead) return 'working';
        await sleep(50);
      }
    } catch {
      // gone already, or tmux hiccup: respawn -k settles it
    }
    return 'working';
  }

  /**
   * Whether the conversation was cut off: found working or limited at the stop (its hooks
   * said so), or its transcript, read now that its process has stopped, ends on a prompt or
   * tool result left unanswered or a limit record with nothing after it (a request started
   * during the swap). The transcript only adds: Claude Code may tell its hooks before it
   * writes the record (an HTTP StopFailure arrives first), so "answered" there removes nothing.
   */
  async needsContinuation(session: SessionSnapshot, account: Account, atStop: StoppedAs): Promise<boolean> {
    if (atStop !== 'idle') return true;
    const transcript = session.sessionId ? transcriptFor(account.home, session.cwd, session.sessionId) : null;
    const end = transcript ? await conversationEnd(transcript) : 'empty';
    this.deps.logger.debug({ session: session.name, end, working: session.working, atStop }, 'how the conversation ended');
    switch (end) {
      case 'awaiting-answer':
      case 'limited':
        return true;
      case 'interrupted':
        // An operator's Escape ends a turn this way too: left alone unless the pool was saved working.
        return session.working;
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
