import type { Account, Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { AccountLayout } from '../accounts/account-layout.js';
import { RETURN_JOB, type SwitchOutcome } from './types.js';
import { relaunchPlanOf, type JournalSnapshot, type SwapSteps } from './swap.js';
import { refineGuessedReset } from './refine-ledger.js';

export interface RecoveryDeps {
  readonly config: Config;
  readonly store: Store;
  readonly layout: AccountLayout;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly steps: SwapSteps;
}

/** What recovery did, and the swap's outcome when it finished or rolled back one. */
export interface Recovery {
  readonly summary: string;
  readonly outcome: SwitchOutcome | null;
}

/**
 * Makes the link, the shared links, the active account and the pool agree again: an
 * unfinished journal entry is finished from the step it reached, or rolled back. Without one,
 * the store follows the link (the link is flipped before the store is committed), and a pool
 * away from the preferred account gets its return scheduled. Runs at start, and at once after
 * a fault part-way through a swap.
 */
export async function recoverSwap(deps: RecoveryDeps): Promise<Recovery> {
  const { store, layout, logger, config, steps } = deps;
  const account = (name: string | null | undefined): Account | undefined => config.accounts.find((a) => a.name === name);
  const preferred = config.accounts[0];
  const journal = store.unfinishedJournal();
  if (!journal) {
    const linked = await layout.linkedAccount();
    const active = store.getActiveAccount();
    if (linked && linked !== active) {
      logger.warn({ stored: active, link: linked }, 'the link and the stored active account disagree: following the link');
      store.setActiveAccount(linked);
      return { summary: `active account set to ${linked} (the link)`, outcome: null };
    }
    if (!active && !linked && preferred) {
      store.setActiveAccount(preferred.name);
      return { summary: `no active account recorded: using ${preferred.name}`, outcome: null };
    }
    const current = account(active);
    if (current && preferred && current.name !== preferred.name && !store.listJobs().some((j) => j.key === RETURN_JOB)) {
      // A return lost to a crash (or never scheduled): the pool must not stay away for good.
      steps.scheduleReturn(current);
      return { summary: `no return to ${preferred.name} was scheduled: scheduled one`, outcome: null };
    }
    return { summary: 'nothing to recover', outcome: null };
  }
  const last = journal.steps.at(-1)?.step ?? 'saved';
  const snapshot = journal.snapshot as JournalSnapshot | null;
  const trigger = snapshot?.trigger ?? 'recovery';
  const to = account(journal.to);
  logger.warn({ journal: journal.id, from: journal.from, to: journal.to, step: last }, 'an interrupted swap was found: repairing it');
  if (!to) {
    store.closeJournal(journal.id, 'cancelled');
    return { summary: 'interrupted swap to an unknown account dropped', outcome: null };
  }
  const from = account(journal.from);
  const openedAt = journal.steps[0]?.at;
  if (from && openedAt) {
    const refined = await refineGuessedReset(store, from, snapshot?.sessions ?? [], openedAt, deps.now());
    if (refined) logger.info({ account: from.name, resetsAt: refined.toISOString() }, "the guessed reset of the account left was refined from the transcripts' limit records");
  }
  switch (last) {
    case 'saved': {
      const reason = 'interrupted before the flip';
      store.addSwap({ from: journal.from, to: journal.to, at: deps.now(), result: 'cancelled', reason, trigger });
      store.closeJournal(journal.id, 'cancelled');
      return { summary: `${reason}: nothing had changed`, outcome: { result: 'cancelled', from: journal.from, to: to.name, reason } };
    }
    case 'rolling-back': {
      const outcome = await steps.rollBack(journal.id, account(journal.from), to, 'interrupted while flipping back', trigger);
      return { summary: `interrupted roll-back finished: ${outcome.result}`, outcome };
    }
    case 'committing': {
      // The pool already runs on the target: only the commit is missing (it is one transaction).
      if (store.getActiveAccount() === to.name) {
        store.closeJournal(journal.id, 'done');
        return { summary: 'interrupted after the commit: closed', outcome: { result: 'done', from: journal.from, to: to.name, sessions: [] } };
      }
      const outcome = steps.commit(journal.id, journal.from, to, trigger, null);
      return { summary: `interrupted before the commit: committed (${outcome.result})`, outcome };
    }
    case 'relaunching': {
      // Some sessions may run on the target already, continued or not: the journaled plan says
      // which conversations were cut off, their transcripts whether the continuation landed.
      const relaunching = journal.steps.at(-1);
      const plan = relaunchPlanOf(relaunching?.data);
      if (plan && relaunching) {
        const outcome = await steps.finishRelaunch(journal.id, journal.from, to, snapshot?.sessions ?? [], plan, relaunching.at, trigger);
        return { summary: `interrupted relaunch finished (${String(plan.continue.length)} conversation(s) to continue): ${outcome.result}`, outcome };
      }
      const outcome = await steps.carryOut(journal.id, journal.from, to, snapshot?.sessions ?? [], trigger);
      return { summary: `interrupted swap completed: ${outcome.result}`, outcome };
    }
    default: {
      const outcome = await steps.carryOut(journal.id, journal.from, to, snapshot?.sessions ?? [], trigger);
      return { summary: `interrupted swap completed: ${outcome.result}`, outcome };
    }
  }
}
