import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from '@commander-js/extra-typings';
import { openStore } from '../store/sqlite-store.js';
import { buildStatus, formatStatus } from '../status/status-report.js';
import { createAccountLayout } from '../accounts/layout.js';
import { silentLogger } from '../log.js';
import { configFor } from './shared.js';

export function statusCommand(): Command {
  return new Command('status')
    .description('show the active account, the link, each account\'s limits, the managed sessions and recent swaps.\nReads the state store, so it works whether or not the daemon runs.')
    .option('--json', 'print one JSON object (activeAccount, link, partialSwap, accounts, sessions, swaps, scheduled)')
    .action(async (opts, command) => {
      const config = configFor(command);
      if (!existsSync(join(config.stateDir, 'state.db')) && !opts.json) {
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
