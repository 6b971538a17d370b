import type { Account, Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { Pool, SessionSnapshot, RelaunchOutcome } from '../pool/pool.js';
import type { Notifier } from '../notify/notifier.js';
import { SerialQueue } from '../serial-queue.js';
import { describeError } from '../errors.js';
import { chooseTarget, isAvailable, usableAgainAt } from './choose-target.js';
import { PARTIAL_SWAP_FLAG, RETRY_JOB, RETURN_JOB, type SwapStep, type SwitchOutcome, type SwitchRequest } from './types.js';

/** The filesystem half of a swap, from src/accounts (a seam, so faults can be produced in tests). */
export interface AccountLayout {
  /** The configured account the link points to now, or null. */
  linkedAccount(): Promise<string | null>;
  flipLink(account: Account): Promise<void>;
  /** Shared links ensured, the account prepared, and both verified; throws on a fault. */
  prepareTarget(account: Account): Promise<void>;
}

export interface SwitcherDeps {
  readonly config: Config;
  readonly store: Store;
  readonly pool: Pool;
  readonly layout: AccountLayout;
  readonly notifier: Notifier;
  readonly logger: Logger;
  readonly now: () => Date;
  /** Called after each journal step is written and before it is taken (tests, failpoints). */
  readonly onStep?: (step: SwapStep, journalId: number) => void | Promise<void>;
  readonly onSwap?: (outcome: SwitchOutcome) => void;
}

/** The least wait before a cancelled swap away from an exhausted account is tried again. */
const CANCELLED_RETRY_MS = 60_000;

interface JournalSnapshot {
  readonly sessions: readonly SessionSnapshot[];
  readonly trigger: string;
}

/**
 * The only thing that changes the active account or the link. Every request (limit,
 * manual, scheduled return, retry) goes through one queue; a swap is a journaled state
 * machine so a crash at any step is repaired at the next start (`recover`).
 */
export class Switcher {
  private readonly queue = new SerialQueue();
  private readonly deps: SwitcherDeps;

  constructor(deps: SwitcherDeps) {
    this.deps = deps;
  }

  request(req: SwitchRequest): Promise<SwitchOutcome> {
    return this.queue.run(async () => {
      const outcome = await this.handle(req);
      this.deps.logger.info({ trigger: req.trigger, account: req.account ?? req.target ?? null, ...summarize(outcome) }, `switch request: ${outcome.result}`);
      this.deps.onSwap?.(outcome);
      return outcome;
    });
  }

  /** Resolves when nothing is queued or running (shutdown, tests). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  get busy(): boolean {
    return this.queue.size > 0;
  }

  private account(name: string | null | undefined): Account | undefined {
    return this.deps.config.accounts.find((a) => a.name === name);
  }

  private get preferred(): Account {
    const first = this.deps.config.accounts[0];
    if (!first) throw new Error('no accounts configured');
    return first;
  }

  private async handle(req: SwitchRequest): Promise<SwitchOutcome> {
    const { store, config } = this.deps;
    const now = this.deps.now();
    const partial = store.getFlag(PARTIAL_SWAP_FLAG);
    if (partial.set) return { result: 'refused', reason: `a partial swap needs repair first (${partial.reason ?? 'no reason recorded'}); fix the layout and run claude-failover resolve` };
    const active = store.getActiveAccount();
    const ledger = store.getLedger();

    const nearLimitPercent = config.monitor.proactivePercent;
    const others = { exclude: active ? [active] : [], nearLimitPercent };
    let target: Account | undefined;
    switch (req.trigger) {
      case 'limit': {
        if (req.account && req.account !== active) return { result: 'skipped', reason: `${req.account} is not the active account (${active ?? 'none'}); ledger updated only` };
        const deferred = this.cooldown(now);
        if (deferred) return deferred;
        const choice = chooseTarget(config.accounts, ledger, now, others);
        if (!choice.found) return this.noTarget(active, choice.earliestReset, req.trigger);
        target = choice.account;
        break;
      }
      case 'proactive': {
        if (req.account && req.account !== active) return { result: 'skipped', reason: `${req.account} is not the active account (${active ?? 'none'})` };
        const deferred = this.cooldown(now);
        if (deferred) return deferred;
        // The active account still answers: only an account with headroom is worth a swap.
        const choice = chooseTarget(config.accounts, ledger, now, { ...others, requireHeadroom: true });
        if (!choice.found) return { result: 'skipped', reason: `no other account has headroom; staying on ${active ?? 'none'} until the limit itself` };
        target = choice.account;
        break;
      }
      case 'retry': {
        const choice = chooseTarget(config.accounts, ledger, now, { nearLimitPercent });
        if (!choice.found) return this.noTarget(active, choice.earliestReset, req.trigger);
        if (choice.account.name === active) return this.sameAccountAvailable(choice.account);
        target = choice.account;
        break;
      }
      case 'return': {
        if (active === this.preferred.name) return { result: 'skipped', reason: 'already on the preferred account' };
        const entry = ledger.find((e) => e.account === this.preferred.name);
        const usableAt = usableAgainAt(entry, now, nearLimitPercent);
        if (usableAt || !isAvailable(entry, now)) {
          const at = usableAt ? new Date(usableAt.getTime() + config.monitor.returnMarginMs) : new Date(now.getTime() + config.monitor.fallbackResetMs);
          store.scheduleJob({ key: RETURN_JOB, kind: 'return', runAt: at });
          return { result: 'deferred', until: at, reason: usableAt ? `${this.preferred.name} has not reset yet` : `${this.preferred.name} is exhausted with no known reset` };
        }
        const deferred = this.cooldown(now);
        if (deferred) return deferred;
        target = this.preferred;
        break;
      }
      case 'manual': {
        if (req.target) {
          target = this.account(req.target);
          if (!target) return { result: 'refused', reason: `no account named "${req.target}" (configured: ${config.accounts.map((a) => a.name).join(', ')})` };
        } else {
          const choice = chooseTarget(config.accounts, ledger, now, others);
          if (!choice.found) return this.noTarget(active, choice.earliestReset, req.trigger);
          target = choice.account;
        }
        if (target.name === active) return { result: 'skipped', reason: `already on ${target.name}` };
        break;
      }
      default:
        req.trigger satisfies never;
        return { result: 'refused', reason: 'unknown trigger' };
    }
    return this.swap(active, target, req);
  }

  private cooldown(now: Date): SwitchOutcome | null {
    const last = this.deps.store.listSwaps(20).find((s) => s.result === 'done');
    if (!last) return null;
    const until = new Date(last.at.getTime() + this.deps.config.monitor.cooldownMs);
    if (until <= now) return null;
    this.deps.store.scheduleJob({ key: RETRY_JOB, kind: 'retry', runAt: until });
    return { result: 'deferred', until, reason: 'cooldown after the last swap' };
  }

  private noTarget(active: string | null, earliestReset: Date | null, trigger: string): SwitchOutcome {
    const { store, notifier, config } = this.deps;
    const retryAt = earliestReset ?? new Date(this.deps.now().getTime() + config.monitor.fallbackResetMs);
    const existing = store.listJobs().find((j) => j.key === RETRY_JOB);
    const alreadyKnown = existing !== undefined && existing.runAt.getTime() === retryAt.getTime();
    store.scheduleJob({ key: RETRY_JOB, kind: 'retry', runAt: retryAt });
    if (!alreadyKnown) {
      store.addSwap({ from: active, to: null, at: this.deps.now(), result: 'no-target', reason: 'every account is exhausted', trigger });
      notifier.notify({
        kind: 'no-account',
        key: `no-account:${retryAt.toISOString()}`,
        text: `Every account is exhausted; the pool stays on ${active ?? 'no account'}. Next try at ${retryAt.toISOString()} (earliest reset).`,
      });
    }
    return { result: 'no-target', retryAt };
  }

  /** The active account reset before any other could take over: the blocked sessions just continue. */
  private async sameAccountAvailable(account: Account): Promise<SwitchOutcome> {
    const { store, pool, config } = this.deps;
    store.clearExhausted(account.name);
    const limited = (await pool.snapshot()).filter((s) => store.getSession(s.name)?.state === 'limited');
    for (const s of limited) {
      // Escape cancels Claude Code's own auto-continue, so the session is continued exactly once.
      await pool.continueSession(s.name, config.claude.resumePrompt).catch(() => false);
    }
    return { result: 'skipped', reason: `${account.name} has reset; ${limited.length} blocked session(s) continued on it` };
  }

  private async step(journalId: number, step: SwapStep, data?: unknown): Promise<void> {
    this.deps.store.journalStep(journalId, step, data);
    await this.deps.onStep?.(step, journalId);
  }

  private async swap(fromName: string | null, to: Account, req: SwitchRequest): Promise<SwitchOutcome> {
    const { store, pool } = this.deps;
    return pool.exclusive(async () => {
      const sessions = await pool.snapshot();
      this.deps.logger.info({ sessions: sessions.map((s) => ({ name: s.name, sessionId: s.sessionId, working: s.working })) }, 'pool saved before the swap');
      const journalId = store.openJournal({ from: fromName, to: to.name, trigger: req.trigger, snapshot: { sessions, trigger: req.trigger } satisfies JournalSnapshot });
      await this.step(journalId, 'saved');
      try {
        return await this.carryOut(journalId, fromName, to, sessions, req.trigger);
      } catch (err) {
        return this.repairAfterFault(journalId, fromName, to, err);
      }
    });
  }

  /**
   * A fault in the middle of a swap (tmux timing out, the store failing) leaves a journal
   * entry open: repair it now, as a restart would. If even that fails, say so loudly and
   * refuse further swaps until an operator has looked.
   */
  private async repairAfterFault(journalId: number, fromName: string | null, to: Account, err: unknown): Promise<SwitchOutcome> {
    const { store, logger, notifier } = this.deps;
    const fault = describeError(err);
    logger.error({ journal: journalId, err: fault }, 'a swap failed part-way: repairing it from the journal');
    try {
      const repaired = await this.recoverNow();
      return { result: 'refused', reason: `the swap failed part-way (${fault}); repaired from the journal: ${repaired}` };
    } catch (again) {
      const why = `a swap failed part-way (${fault}) and could not be repaired (${describeError(again)}); the journal entry ${journalId} is still open`;
      try {
        store.setFlag(PARTIAL_SWAP_FLAG, why);
      } catch {
        // the store itself is failing: the log and the alert below still say it
      }
      logger.fatal({ reason: why }, 'PARTIAL SWAP: every swap is refused until `claude-failover resolve`');
      notifier.notify({ kind: 'swap-partial', key: `partial:${journalId}`, text: `PARTIAL SWAP — needs you: ${why}. Restarting the daemon repairs it from the journal; then run \`claude-failover resolve\`.` });
      return { result: 'partial', from: fromName, to: to.name, reason: why };
    }
  }

  /** From the flip onwards; also how recovery finishes an interrupted swap. */
  private async carryOut(journalId: number, fromName: string | null, to: Account, sessions: readonly SessionSnapshot[], trigger: string): Promise<SwitchOutcome> {
    const { layout, pool, config } = this.deps;
    const from = this.account(fromName);
    try {
      await this.step(journalId, 'flipping');
      await layout.flipLink(to);
      await this.step(journalId, 'ensuring');
      await layout.prepareTarget(to);
    } catch (err) {
      return this.rollBack(journalId, from, to, describeError(err), trigger);
    }
    await this.step(journalId, 'stopping');
    const interrupted = await pool.stopAll(sessions);
    await this.step(journalId, 'relaunching');
    const outcomes: RelaunchOutcome[] = await pool.relaunchAll(sessions, to, config.claude.resumePrompt, interrupted);
    await this.step(journalId, 'committing');
    return this.commit(journalId, fromName, to, trigger, outcomes);
  }

  /** The active account, the swap record and the closed journal land together, then the news. */
  private commit(journalId: number, fromName: string | null, to: Account, trigger: string, outcomes: readonly RelaunchOutcome[] | null): SwitchOutcome {
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
    const lines = moved.map((o) => `  ${o.name}: ${describeRelaunch(o)}`);
    const summary =
      outcomes === null
        ? 'the sessions were relaunched before an interruption'
        : `${moved.length - failed.length}/${moved.length} session(s) moved${lost.length > 0 ? `; NOT CONTINUED: ${lost.map((o) => o.name).join(', ')} (the continuation prompt never landed)` : ''}`;
    if (lost.length > 0) {
      notifier.notify({
        kind: 'continuation-lost',
        key: `continuation-lost:${journalId}`,
        text: `After the swap ${fromName ?? '(none)'} → ${to.name}, the continuation prompt never reached ${lost.map((o) => o.name).join(', ')}: ${lost.length === 1 ? 'it sits' : 'they sit'} idle on ${to.name}. Attach and continue by hand.`,
        details: { sessions: lost.map((o) => ({ name: o.name, sessionId: o.sessionId, error: o.error })) },
      });
    }
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

  private async rollBack(journalId: number, from: Account | undefined, to: Account, reason: string, trigger: string): Promise<SwitchOutcome> {
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

  private scheduleReturn(active: Account): void {
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

  /**
   * At start: an unfinished journal entry is finished or rolled back, so the link, the
   * shared links, the active account and the pool agree. Without one, the store follows
   * the link (the link is flipped before the store is committed).
   */
  async recover(): Promise<string> {
    return this.queue.run(() => this.deps.pool.exclusive(() => this.recoverNow()));
  }

  private async recoverNow(): Promise<string> {
    const { store, layout, logger } = this.deps;
    const journal = store.unfinishedJournal();
    const linked = await layout.linkedAccount();
    if (!journal) {
      const active = store.getActiveAccount();
      if (linked && linked !== active) {
        logger.warn({ stored: active, link: linked }, 'the link and the stored active account disagree: following the link');
        store.setActiveAccount(linked);
        return `active account set to ${linked} (the link)`;
      }
      if (!active && !linked) {
        store.setActiveAccount(this.preferred.name);
        return `no active account recorded: using ${this.preferred.name}`;
      }
      const current = this.account(active);
      if (current && current.name !== this.preferred.name && !store.listJobs().some((j) => j.key === RETURN_JOB)) {
        // A return lost to a crash (or never scheduled): the pool must not stay away for good.
        this.scheduleReturn(current);
        return `no return to ${this.preferred.name} was scheduled: scheduled one`;
      }
      return 'nothing to recover';
    }
    const last = journal.steps.at(-1)?.step ?? 'saved';
    const snapshot = journal.snapshot as JournalSnapshot | null;
    const to = this.account(journal.to);
    logger.warn({ journal: journal.id, from: journal.from, to: journal.to, step: last }, 'an interrupted swap was found: repairing it');
    if (!to) {
      store.closeJournal(journal.id, 'cancelled');
      return 'interrupted swap to an unknown account dropped';
    }
    if (last === 'saved') {
      store.addSwap({ from: journal.from, to: journal.to, at: this.deps.now(), result: 'cancelled', reason: 'interrupted before the flip', trigger: snapshot?.trigger ?? 'recovery' });
      store.closeJournal(journal.id, 'cancelled');
      return 'interrupted before the flip: nothing had changed';
    }
    if (last === 'rolling-back') {
      const outcome = await this.rollBack(journal.id, this.account(journal.from), to, 'interrupted while flipping back', snapshot?.trigger ?? 'recovery');
      return `interrupted roll-back finished: ${outcome.result}`;
    }
    if (last === 'committing') {
      // The pool already runs on the target: only the commit is missing (it is one transaction).
      if (store.getActiveAccount() === to.name) {
        store.closeJournal(journal.id, 'done');
        return 'interrupted after the commit: closed';
      }
      const outcome = this.commit(journal.id, journal.from, to, snapshot?.trigger ?? 'recovery', null);
      return `interrupted before the commit: committed (${outcome.result})`;
    }
    const outcome = await this.carryOut(journal.id, journal.from, to, snapshot?.sessions ?? [], snapshot?.trigger ?? 'recovery');
    return `interrupted swap completed: ${outcome.result}`;
  }
}

function describeRelaunch(o: RelaunchOutcome): string {
  const how = o.resumed ? `resumed ${o.sessionId ?? ''}` : 'started fresh';
  if (o.continuation === 'not-delivered') return `${how}, CONTINUATION NOT DELIVERED (${o.error ?? ''})`;
  if (!o.ok) return `FAILED ${o.error ?? ''}`;
  return o.prompted ? `${how} (continued)` : how;
}

function summarize(outcome: SwitchOutcome): Record<string, unknown> {
  switch (outcome.result) {
    case 'done':
      return { from: outcome.from, to: outcome.to, sessions: outcome.sessions.length };
    case 'cancelled':
    case 'partial':
      return { from: outcome.from, to: outcome.to, reason: outcome.reason };
    case 'no-target':
      return { retryAt: outcome.retryAt?.toISOString() ?? null };
    case 'deferred':
      return { until: outcome.until.toISOString(), reason: outcome.reason };
    case 'skipped':
    case 'refused':
      return { reason: outcome.reason };
  }
}
