import { Command } from '@commander-js/extra-typings';
import { openStore } from '../store/sqlite-store.js';
import { acquireInstanceLock } from '../store/instance-lock.js';
import type { Store } from '../store/store.js';
import { runDoctorChecks } from '../accounts/doctor-checks.js';
import { createAccountLayout } from '../accounts/layout.js';
import { PARTIAL_SWAP_FLAG } from '../switcher/types.js';
import { FailoverError } from '../errors.js';
import { silentLogger } from '../log.js';
import { configFor } from './shared.js';

/** How `resolve` closes a swap's open journal entry: recovery never finishes or rolls it back. */
export const JOURNAL_RESOLVED_BY_OPERATOR = 'resolved-by-operator';

/** The daemon's lock, when no daemon holds it (then none can start while we repair). */
function lockIfIdle(stateDir: string): { release(): void } | null {
  try {
    return acquireInstanceLock(stateDir);
  } catch (err) {
    if (err instanceof FailoverError && err.code === 'INSTANCE_LOCKED') return null;
    throw err;
  }
}

/**
 * The operator has repaired the layout and the checks pass: the swap left open in the journal
 * must not be redone over that repair at the next start. While a daemon runs without a
 * partial swap, an open entry is a swap in progress and is left to it.
 */
function closeOpenJournal(store: Store, partialSwap: boolean, daemonRunning: boolean): string | null {
  const journal = store.unfinishedJournal();
  if (!journal) return null;
  const what = `journal entry ${journal.id} (${journal.from ?? '(none)'} → ${journal.to}, stopped after "${journal.steps.at(-1)?.step ?? 'opening'}")`;
  if (!partialSwap && daemonRunning) return `${what} left open: the running daemon has a swap in progress`;
  store.journalStep(journal.id, JOURNAL_RESOLVED_BY_OPERATOR);
  store.closeJournal(journal.id, JOURNAL_RESOLVED_BY_OPERATOR);
  return `${what} closed as resolved by the operator: it will not be redone`;
}

export function resolveCommand(): Command {
  return new Command('resolve')
    .summary('clear a partial swap once the layout is repaired')
    .description(
      'After a partial swap (the link flipped, the shared links could not be made right, and flipping back failed): re-runs the layout checks of `doctor` and, only when they all pass, clears the partial-swap flag and closes the swap left open in the journal as resolved by the operator, so the next start does not redo it. The active account becomes the one the link points to.\n\n' +
        'Repair first (often `claude-failover init` does it), then resolve. Exit 1 while a check fails. --json prints what it did: `resolved`, the `checks`, the partial swap (`wasSet`, `reason`, `cleared`), the `activeAccount` and the `journal` entry it closed or left.',
    )
    .option('--json', 'print what it did as JSON')
    .action(async (opts, command) => {
      const config = configFor(command);
      const lock = lockIfIdle(config.stateDir);
      const store = openStore(config.stateDir);
      try {
        const flag = store.getFlag(PARTIAL_SWAP_FLAG);
        const checks = await runDoctorChecks(config, { layoutOnly: true });
        const failed = checks.filter((c) => c.status === 'fail');
        const checksJson = checks.map((c) => ({ status: c.status, message: c.message, fix: c.fix ?? null }));
        if (!opts.json) for (const c of checks) process.stdout.write(`${c.status.padEnd(4)}  ${c.message}${c.status !== 'ok' && c.fix ? `\n      fix: ${c.fix}` : ''}\n`);
        if (failed.length > 0) {
          process.stdout.write(
            opts.json
              ? JSON.stringify({ resolved: false, checks: checksJson, partialSwap: { wasSet: flag.set, reason: flag.reason, cleared: false }, activeAccount: store.getActiveAccount(), journal: null }, null, 2) + '\n'
              : `\n${failed.length} check(s) fail: the layout is not repaired${flag.set ? '; the partial-swap flag stays set' : ''}.\n`,
          );
          process.exitCode = 1;
          return;
        }
        const linked = await createAccountLayout(config, silentLogger()).linkedAccount();
        if (linked) store.setActiveAccount(linked);
        const journal = closeOpenJournal(store, flag.set, lock === null);
        if (flag.set) store.clearFlag(PARTIAL_SWAP_FLAG);
        if (opts.json) {
          process.stdout.write(JSON.stringify({ resolved: true, checks: checksJson, partialSwap: { wasSet: flag.set, reason: flag.reason, cleared: flag.set }, activeAccount: linked, journal }, null, 2) + '\n');
          return;
        }
        if (flag.set) {
          process.stdout.write(`\nthe layout is sound: partial-swap flag cleared (it said: ${flag.reason ?? 'no reason'}); active account: ${linked ?? '(none)'}\n`);
        } else {
          process.stdout.write(`\nthe layout is sound; there was no partial swap to clear. Active account: ${linked ?? '(none)'}\n`);
        }
        if (journal) process.stdout.write(`${journal}\n`);
      } finally {
        store.close();
        lock?.release();
      }
    });
}
