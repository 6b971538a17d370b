import type { Account } from '../config/types.js';
import type { SpreadChoose } from '../store/shared-store.js';
import { SerialQueue } from '../serial-queue.js';
import { describeError } from '../errors.js';
import { continuationLostEvent } from './describe-outcome.js';
import { accountNamed, preferredAccount } from '../config/accounts.js';
import { chooseTarget, isAvailable, usableAgainAt } from './choose-target.js';
import { PARTIAL_SWAP_FLAG, RETRY_JOB, RETURN_JOB, type SwitchOutcome, type SwitchRequest } from './types.js';
import { SwapSteps, type JournalSnapshot, type SwapDeps } from './swap.js';
import { recoverSwap, type Recovery } from './recovery.js';

/** What a swap needs (swap.ts), and who hears of every outcome. */
export interface SwitcherDeps extends SwapDeps {
  readonly onSwap?: (outcome: SwitchOutcome) => void;
  /**
   * `fleet.spread`: runs the choice with how many other hosts of the fleet are on each account,
   * one host at a time, and tells the fleet the account chosen (fleet.ts).
   */
  readonly spreadChoice?: <T>(choose: SpreadChoose<T>) => Promise<T>;
}

/**
 * The only thing that changes the active account or the link. Every request (limit,
 * manual, scheduled return, retry) goes through one queue; a swap is a journaled state
 * machine so a crash at any step is repaired at the next start (`recover`).
 */
export class Switcher {
  private readonly queue = new SerialQueue();
  private readonly deps: SwitcherDeps;
  private readonly steps: SwapSteps;

  constructor(deps: SwitcherDeps) {
    this.deps = deps;
    this.steps = new SwapSteps(deps);
  }

  request(req: SwitchRequest): Promise<SwitchOutcome> {
    return this.queue.run(async () => {
      const outcome = await this.handle(req);
      // The request's own reason (the limit banner, "manual switch (HTTP)", …) is what an operator reads the log for.
      this.deps.logger.info({ trigger: req.trigger, account: req.account ?? req.target ?? null, why: req.reason ?? null, ...summarize(outcome) }, `switch request: ${outcome.result}`);
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
    return accountNamed(this.deps.config, name);
  }

  private get preferred(): Account {
    return preferredAccount(this.deps.config);
  }

  private async handle(req: SwitchRequest): Promise<SwitchOutcome> {
    const { store, config, spreadChoice } = this.deps;
    const partial = store.getFlag(PARTIAL_SWAP_FLAG);
    if (partial.set) return { result: 'refused', reason: `a partial swap needs repair first (${partial.reason ?? 'no reason recorded'}); fix the layout and run claude-failover resolve` };
    const decision = config.fleet.spread && spreadChoice
      ? await spreadChoice((load) => {
          const d = this.decide(req, load);
          return { result: d, account: 'swapTo' in d ? d.swapTo.name : null };
        })
      : this.decide(req, null);
    if ('swapTo' in decision) return this.swap(store.getActiveAccount(), decision.swapTo, req);
    if ('continueOn' in decision) return this.sameAccountAvailable(decision.continueOn);
    return decision;
  }

  /**
   * What a request comes to: an outcome without a swap, a swap to an account, or the active
   * account continued where it is (it reset first). Synchronous, so the fleet can run it under
   * its spread lock; `load` is how many other hosts are on each account (fleet.spread), or null.
   */
  private decide(req: SwitchRequest, load: ReadonlyMap<string, number> | null): SwitchOutcome | { readonly swapTo: Account } | { readonly continueOn: Account } {
    const { store, config } = this.deps;
    const now = this.deps.now();
    const active = store.getActiveAccount();
    const ledger = store.getLedger();

    const nearLimitPercent = config.monitor.proactivePercent;
    const spread = load ? { spread: load } : {};
    const others = { exclude: active ? [active] : [], nearLimitPercent, ...spread };
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
        const choice = chooseTarget(config.accounts, ledger, now, { nearLimitPercent, ...spread });
        if (!choice.found) return this.noTarget(active, choice.earliestReset, req.trigger);
        if (choice.account.name === active) return { continueOn: choice.account };
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
          if (!choice.found) {
            // Nowhere else to go is news only when the account in use is exhausted too.
            const current = ledger.find((e) => e.account === active);
            if (active && isAvailable(current, now)) return { result: 'skipped', reason: `no other account is available; staying on ${active}, which still has quota` };
            return this.noTarget(active, choice.earliestReset, req.trigger);
          }
          target = choice.account;
        }
        if (target.name === active) return { result: 'skipped', reason: `already on ${target.name}` };
        break;
      }
      default:
        req.trigger satisfies never;
        return { result: 'refused', reason: 'unknown trigger' };
    }
    return { swapTo: target };
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
    const { store, pool, config, notifier, logger } = this.deps;
    store.clearExhausted(account.name);
    const limited = (await pool.snapshot()).filter((s) => store.getSession(s.name)?.state === 'limited');
    const lost: string[] = [];
    for (const s of limited) {
      // Escape cancels Claude Code's own auto-continue, so the session is continued exactly once.
      if (!(await pool.continueSession(s.name, config.claude.resumePrompt).catch(() => false))) lost.push(s.name);
    }
    if (lost.length > 0) {
      // As after a swap: a continuation Claude Code never confirmed is said, not assumed.
      logger.warn({ account: account.name, sessions: lost }, 'a continuation on the account that reset was never confirmed');
      notifier.notify(continuationLostEvent(`${account.name} has reset, but`, account.name, lost, `continuation-lost:${account.name}:${lost.join(',')}:${this.deps.now().toISOString()}`, { account: account.name, sessions: lost }));
    }
    return { result: 'skipped', reason: `${account.name} has reset; ${String(limited.length - lost.length)}/${String(limited.length)} blocked session(s) continued on it${lost.length > 0 ? `; NOT CONTINUED: ${lost.join(', ')}` : ''}` };
  }

  private async swap(fromName: string | null, to: Account, req: SwitchRequest): Promise<SwitchOutcome> {
    const { store, pool } = this.deps;
    return pool.exclusive(async () => {
      const sessions = await pool.snapshot();
      this.deps.logger.info({ sessions: sessions.map((s) => ({ name: s.name, sessionId: s.sessionId, working: s.working })) }, 'pool saved before the swap');
      const journalId = store.openJournal({ from: fromName, to: to.name, trigger: req.trigger, snapshot: { sessions, trigger: req.trigger } satisfies JournalSnapshot });
      await this.steps.step(journalId, 'saved');
      try {
        return await this.steps.carryOut(journalId, fromName, to, sessions, req.trigger);
      } catch (err) {
        return this.repairAfterFault(journalId, fromName, to, err);
      }
    });
  }

  /**
   * A fault in the middle of a swap (tmux timing out, the store failing) leaves a journal
   * entry open: repair it now, as a restart would, and answer with what the repair did (a
   * swap it finished is done). If even that fails, say so loudly and refuse further swaps
   * until an operator has looked.
   */
  private async repairAfterFault(journalId: number, fromName: string | null, to: Account, err: unknown): Promise<SwitchOutcome> {
    const { store, logger, notifier } = this.deps;
    const fault = describeError(err);
    logger.error({ journal: journalId, err: fault }, 'a swap failed part-way: repairing it from the journal');
    try {
      const repaired = await this.recoverNow();
      logger.warn({ journal: journalId, repair: repaired.summary }, 'the swap was repaired from the journal');
      return repaired.outcome ?? { result: 'refused', reason: `the swap failed part-way (${fault}); repaired from the journal: ${repaired.summary}` };
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

  /**
   * At start: an unfinished journal entry is finished or rolled back, so the link, the
   * shared links, the active account and the pool agree (recovery.ts).
   */
  async recover(): Promise<string> {
    return this.queue.run(() => this.deps.pool.exclusive(async () => (await this.recoverNow()).summary));
  }

  private recoverNow(): Promise<Recovery> {
    const { config, store, layout, logger, now } = this.deps;
    return recoverSwap({ config, store, layout, logger, now, steps: this.steps });
  }
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
