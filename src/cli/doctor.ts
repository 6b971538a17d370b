import { existsSync } from 'node:fs';
import { Command } from '@commander-js/extra-typings';
import { runDoctorChecks, type PartialSwapState } from '../accounts/doctor-checks.js';
import { openStore, storeFile } from '../store/sqlite-store.js';
import { PARTIAL_SWAP_FLAG } from '../switcher/types.js';
import { configFor } from './shared.js';

export function doctorCommand(): Command {
  return new Command('doctor')
    .summary('check the layout, logins, tmux and settings')
    .description(
      'Checks the layout (the link, the shared links, the shared dir), each account\'s own login, tmux, the claude command, each account\'s settings against what the installed Claude Code accepts (hook events, hook type, the bypass-dialog key), the state dir and the partial-swap flag.\n\n' +
        'One line per check with its fix; exit 1 when a check fails.',
    )
    .option('--json', 'print the checks as JSON')
    .action(async (opts, command) => {
      const config = configFor(command);
      // Always reported: null (no state database yet) reads as "no partial swap".
      let partialSwap: PartialSwapState = null;
      if (existsSync(storeFile(config.stateDir))) {
        const store = openStore(config.stateDir);
        const flag = store.getFlag(PARTIAL_SWAP_FLAG);
        partialSwap = { set: flag.set, reason: flag.reason };
        store.close();
      }
      const checks = await runDoctorChecks(config, { partialSwap });
      if (opts.json) process.stdout.write(JSON.stringify(checks, null, 2) + '\n');
      else for (const c of checks) process.stdout.write(`${c.status.padEnd(4)}  ${c.message}${c.status !== 'ok' && c.fix ? `\n      fix: ${c.fix}` : ''}\n`);
      process.exitCode = checks.some((c) => c.status === 'fail') ? 1 : 0;
    });
}
