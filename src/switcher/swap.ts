import type { Account, Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { Pool } from '../pool/pool.js';
import type { SessionSnapshot, RelaunchOutcome } from '../pool/swap-types.js';
import type { Notifier } from '../notify/notifier.js';
import type { AccountLayout } from '../accounts/account-layout.js';
import { describeError } from '../errors.js';
import { continuationLostEvent } from './describe-outcome.js';
import { accountNamed, preferredAccount } from '../config/accounts.js';
import { isAvailable, usableAgainAt } from './choose-target.js';
import { PARTIAL_SWAP_FLAG, RETRY_JOB, RETURN_JOB, type SwapStep, type SwitchOutcome } from './types.js';

/** The least wait before a cancelled swap away from an exhausted account is tried again. */
const CANCELLED_RETRY_MS = 60_000;

export interface SwapDeps {
  readonly config: Config;
  readonly store: Store;
  readonly pool: Pool;
  readonly layout: AccountLayout;
  readonly notifier: Notifier;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Called after each journal step is written and before it is taken (tests, failpoints). */
  readonly onStep?: (step: SwapStep, journalId: number) => void | Promise<void>;
}

/** Which conversations the relaunch continues: journaled with the "relaunching" step. */
export interface RelaunchPlan {
  readonly continue: readonly string[];
}

/** The plan a "relaunching" step carries, if it is one (a journal written before plans has none). */
export function relaunchPlanOf(data: unknown): RelaunchPlan | null {
  if (typeof data !== 'object' || data === null || !('continue' in data)) return null;
  const names: unknown = data.continue;
  return Array.isArray(names) && names.every((n) => typeof n === 'string') ? { continue: names } : null;
}

/** What a swap saved in its journal entry before it touched anything. */
export interface JournalSnapshot {
  readonly sessions: readonly SessionSnapshot[];
  readonly trigger: string;
}

/**
 * A swap's steps, each written to the journal before it is taken, so a crash between any two
 * is repaired at the next start: flip the link, prepare the target, stop the pool, relaunch
 * it there, commit; or, when the target cannot be prepared, flip back.
 */
export class SwapSteps {
  private readonly deps: SwapDeps;

  constructor(deps: SwapDeps) {
    this.deps = deps;
  }

  private account(name: string | null | undefined): Account | undefined {
    return accountNamed(this.deps.config, name);
  }

  private get preferred(): Account {
    return preferredAccount(this.deps.config);
  }

  async step(journalId: number, step: SwapStep, data?: unknown): Promise<void> {
    this.deps.store.journalStep(journalId, step, data);
    await this.deps.onStep?.(step, journalId);
  }

  /** From the flip onwards; also how recovery finishes a swap interrupted before its relaunch. */
  async carryOut(journalId: number, fromName: string | null, to: Account, sessions: readonly SessionSnapshot[], trigger: string): Promise<SwitchOutcome> {
    const { pool, config } = this.deps;
    const cancelled = await this.flipAndPrepare(journalId, fromName, to, trigger, true);
    if (cancelled) return cancelled;
    await this.step(journalId, 'stopping');
    const atStop = await pool.stopAll(sessions);
    // Decided now, journaled before anything is relaunched: a relaunch overwrites what the stop found.
    const plan: RelaunchPlan = { continue: [...(await pool.continuationsNeeded(sessions, to, config.claude.resumePrompt, atStop))] };
    await this.step(journalId, 'relaunching', plan);
    const outcomes: RelaunchOutcome[] = await pool.relaunchAll(sessions, to, config.claude.resumePrompt, new Set(plan.continue));
    await this.step(journalId, 'committing');
    return this.commit(journalId, fromName, to, trigger, outcomes);
  }

  /**
   * Recovery of a swap interrupted during its relaunch: the link and the target made right
   * again, then the relaunch finished from its journaled plan (`since`: when it began), so
   * every planned continuation is delivered exactly once.
   */
  async finishRelaunch(journalId: number, fromName: string | null, to: Account, sessions: readonly SessionSnapshot[], plan: RelaunchPlan, since: Date, trigger: string): Promise<SwitchOutcome> {
    const { pool, config } = this.deps;
    const cancelled = await this.flipAndPrepare(journalId, fromName, to, trigger, false);
    if (cancelled) return cancelled;
    const outcomes = await pool.finishRelaunch(sessions, to, config.claude.resumePrompt, new Set(plan.continue), since);
    await this.step(journalId, 'committing');
    return this.commit(journalId, fromName, to, trigger, outcomes);
  }

  /** Flips the link to `to` and prepares it (idempotent); a failure rolls the swap back. Journaled when `journaled` (recovery re-does them without new steps, so the journal keeps its plan as the last step). */
  private async flipAndPrepare(journalId: number, fromName: string | null, to: Account, trigger: string, journaled: boolean): Promise<SwitchOutcome | null> {
    const { layout } = this.deps;
    try {
      if (journaled) await this.step(journalId, 'flipping');
      await layout.flipLink(to);
      if (journaled) await this.step(journalId, 'ensuring');
      await layout.prepareTarget(to);
      return null;
    } catch (err) {
      return this.rollBack(journalId, this.account(fromName), to, describeError(err), trigger);
    }
  }

  /** The active account, the swap record and the closed journal land together, then the news. */
  commit(journalId: number, fromName: string | null, to: Account, trigger: string, outcomes: readonly RelaunchOutcome[] | null): SwitchOutcome {
    const { store, notifier, logger } = this.deps;
    const at = this.deps.now();
    store.atomically(() => {
      store.setActiveAccount(to.name);
      if (isAvailable(store.getLedgerEntry(to.name) ?? undefined, at)) store.clearExhausted(to.name);
      store.addSwap({ from: fromName, to: to.name, at, result: 'done', reason: null, trigger });
      store.closeJournal(journalId, 'done');
      store.deleteJob(RETRY_JOB);
    });
    const moved = outcomes ?? [];
    const failed = moved.filter((o) => !o.ok);
    const lost = moved.filter((o) => o.continuation === 'not-delivered');
    const returned = to.name === this.preferred.name && fromName !== null && fromName !== to.name;
    const summary =
      outcomes === null
        ? 'the sessions were relaunched before an interruption'
        : `${moved.length - failed.length}/${moved.length} session(s) moved${lost.length > 0 ? `; NOT CONTINUED: ${lost.map((o) => o.name).join(', ')} (the continuation prompt never landed)` : ''}`;
    if (lost.length > 0) {
      notifier.notify(continuationLostEvent(`After the swap ${fromName ?? '(none)'} → ${to.name},`, to.name, lost.map((o) => o.name), `continuation-lost:${journalId}`, { sessions: lost.map((o) => ({ name: o.name, sessionId: o.sessionId, error: o.error })) }));
    }
    const lines = moved.map((o) => `  ${o.name}: ${describeRelaunch(o)}`);
    notifier.notify({
      kind: returned ? 'returned' : 'swap-done',
      key: `swap:${journalId}`,
      text: `${returned ? 'Returned to the preferred account' : 'Swapped accounts'}: ${fromName ?? '(none)'} → ${to.name} (${trigger}); ${summary}.${lines.length > 0 ? '\n' + lines.join('\n') : ''}`,
      details: { from: fromName, to: to.name, trigger, sessions: moved },
    });
    if (failed.length > 0) logger.warn({ failed }, 'some sessions did not come back after the swap');
    this.scheduleReturn(to);
    return { result: 'done', from: fromName, to: to.name, sessions: [...moved] };
  }

  async rollBack(journalId: number, from: Account | undefined, to: Account, reason: string, trigger: string): Promise<SwitchOutcome> {
    const { store, layout, notifier, logger } = this.deps;
    logger.error({ to: to.name, reason }, 'the target account could not be prepared: flipping back');
    await this.step(journalId, 'rolling-back', { reason });
    try {
      if (from) await layout.flipLink(from);
      store.addSwap({ from: from?.name ?? null, to: to.name, at: this.deps.now(), result: 'cancelled', reason, trigger });
      store.closeJournal(journalId, 'cancelled');
      const retryAt = this.retryAfterCancel(from);
      notifier.notify({
        kind: 'swap-cancelled',
        key: `swap-cancelled:${to.name}:${reason}`,
        text: `Swap ${from?.name ?? '(none)'} → ${to.name} cancelled: ${reason}. Still on ${from?.name ?? '(none)'}.${retryAt ? ` It is exhausted: trying again at ${retryAt.toISOString()}.` : ''}`,
      });
      return { result: 'cancelled', from: from?.name ?? null, to: to.name, reason };
    } catch (err) {
      const why = `flip to ${to.name} failed to prepare (${reason}) and flipping back to ${from?.name ?? '(none)'} failed too (${describeError(err)})`;
      store.setFlag(PARTIAL_SWAP_FLAG, why);
      store.addSwap({ from: from?.name ?? null, to: to.name, at: this.deps.now(), result: 'partial', reason: why, trigger });
      store.closeJournal(journalId, 'partial');
      logger.fatal({ reason: why }, 'PARTIAL SWAP: the link is in an unknown state; every swap is refused until `claude-failover resolve`');
      notifier.notify({ kind: 'swap-partial', key: `partial:${journalId}`, text: `PARTIAL SWAP — needs you: ${why}. Every swap is refused until the layout is repaired and \`claude-failover resolve\` passes.` });
      return { result: 'partial', from: from?.name ?? null, to: to.name, reason: why };
    }
  }

  /** Still on an exhausted account after a cancelled swap: try again later, not never, not at once. */
  private retryAfterCancel(from: Account | undefined): Date | null {
    const { store, config } = this.deps;
    const now = this.deps.now();
    if (!from || isAvailable(store.getLedgerEntry(from.name) ?? undefined, now)) return null;
    const at = new Date(now.getTime() + Math.max(config.monitor.cooldownMs, CANCELLED_RETRY_MS));
    store.scheduleJob({ key: RETRY_JOB, kind: 'retry', runAt: at });
    return at;
  }

  scheduleReturn(active: Account): void {
    const { store, config } = this.deps;
    if (active.name === this.preferred.name) {
      store.deleteJob(RETURN_JOB);
      return;
    }
    const entry = store.getLedgerEntry(this.preferred.name) ?? undefined;
    const now = this.deps.now();
    const reset = usableAgainAt(entry, now, config.monitor.proactivePercent) ?? entry?.resetsAt ?? new Date(now.getTime() + config.monitor.fallbackResetMs);
    store.scheduleJob({ key: RETURN_JOB, kind: 'return', runAt: new Date(reset.getTime() + config.monitor.returnMarginMs) });
  }
}

function describeRelaunch(o: RelaunchOutcome): string {
  const how = o.resumed ? `resumed ${o.sessionId ?? ''}` : 'started fresh';
  if (o.continuation === 'not-delivered') return `${how}, CONTINUATION NOT DELIVERED (${o.error ?? ''})`;
  if (!o.ok) return `FAILED ${o.error ?? ''}`;
  return o.prompted ? `${how} (continued)` : how;
}
