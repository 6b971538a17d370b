import { Command } from '@commander-js/extra-typings';
import { openStore } from '../store/sqlite-store.js';
import { runDoctorChecks } from '../accounts/doctor-checks.js';
import { createAccountLayout } from '../accounts/layout.js';
import { PARTIAL_SWAP_FLAG } from '../switcher/types.js';
import { silentLogger } from '../log.js';
import { configFor } from './shared.js';

export function resolveCommand(): Command {
  return new Command('resolve')
    .description(
      'after a partial swap (the link flipped, the shared links could not be made right, and flipping back failed):\n' +
        're-run the layout checks of `doctor` and clear the partial-swap flag only if they all pass.\n' +
        'Repair first (often `claude-failover init` does it), then resolve. The active account becomes the one the link points to.',
    )
    .action(async (_opts, command) => {
      const config = configFor(command);
      const store = openStore(config.stateDir);
      try {
        const flag = store.getFlag(PARTIAL_SWAP_FLAG);
        const checks = await runDoctorChecks(config, { layoutOnly: true });
        const failed = checks.filter((c) => c.status === 'fail');
        for (const c of checks) process.stdout.write(`${c.status.padEnd(4)}  ${c.message}${c.status !== 'ok' && c.fix ? `\n      fix: ${c.fix}` : ''}\n`);
        if (failed.length > 0) {
          process.stdout.write(`\n${failed.length} check(s) fail: the layout is not repaired${flag.set ? '; the partial-swap flag stays set' : ''}.\n`);
          process.exitCode = 1;
          return;
        }
        const linked = await createAccountLayout(config, silentLogger()).linkedAccount();
        if (linked) store.setActiveAccount(linked);
        if (flag.set) {
          store.clearFlag(PARTIAL_SWAP_FLAG);
          process.stdout.write(`\nthe layout is sound: partial-swap flag cleared (it said: ${flag.reason ?? 'no reason'}); active account: ${linked ?? '(none)'}\n`);
        } else {
          process.stdout.write(`\nthe layout is sound; there was no partial swap to clear. Active account: ${linked ?? '(none)'}\n`);
        }
      } finally {
        store.close();
      }
    });
}
