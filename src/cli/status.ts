import { existsSync } from 'node:fs';
import { Command } from '@commander-js/extra-typings';
import { openStore, storeFile } from '../store/sqlite-store.js';
import { buildStatus, formatStatus } from '../status/status-report.js';
import { createAccountLayout } from '../accounts/layout.js';
import { silentLogger } from '../log.js';
import { configFor } from './shared.js';

export function statusCommand(): Command {
  return new Command('status')
    .summary('show accounts, limits, sessions and swaps')
    .description(
      'Shows the active account and where the link points, each account\'s limit and usage, the managed sessions (state, account, conversation id, last error), the recent swaps and what is scheduled, with a partial swap first when there is one.\n\n' +
        'Reads the state store, so it works whether or not the daemon runs.',
    )
    .option('--json', 'print one JSON object (activeAccount, link, partialSwap, accounts, sessions, swaps, scheduled)')
    .action(async (opts, command) => {
      const config = configFor(command);
      if (!existsSync(storeFile(config.stateDir)) && !opts.json) {
        process.stdout.write(`no state yet in ${config.stateDir}: the daemon has not run (start it with claude-failover run)\n`);
      }
      const store = openStore(config.stateDir);
      try {
        const link = await createAccountLayout(config, silentLogger()).linkedAccount();
        const report = buildStatus(config, store, link, new Date());
        process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatStatus(report) + '\n');
      } finally {
        store.close();
      }
    });
}
