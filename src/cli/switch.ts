import { Command, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { sendRequest } from '../monitor/control-socket.js';
import { describeOutcome } from '../switcher/describe-outcome.js';
import { describeError, FailoverError } from '../errors.js';
import { daemonSocketPath } from './self-command.js';
import { stateDirProblem } from '../store/state-dir.js';
import { configFor } from './shared.js';
import { readSwitchOutcome } from './switch-outcome.js';

export function switchCommand(): CommandUnknownOpts {
  return new Command('switch')
    .description('ask the running daemon to move the whole pool to ACCOUNT now (default: the best available account).\nGoes through the same queue as limit swaps; refused while a partial swap is unresolved.')
    .argument('[account]', 'account name from the config')
    .action(async (account, _opts, command) => {
      const config = configFor(command);
      try {
        const outcome = readSwitchOutcome(await sendRequest(daemonSocketPath(config), 'switch', { account: account ?? null }, { timeoutMs: 10 * 60_000 }));
        process.stdout.write(describeOutcome(outcome) + '\n');
        process.exitCode = outcome.result === 'done' || outcome.result === 'skipped' ? 0 : 1;
      } catch (err) {
        const notRunning = err instanceof FailoverError && err.code === 'DAEMON_NOT_RUNNING';
        const why = notRunning ? (stateDirProblem(config.stateDir) ?? 'the daemon is not running (start it with: claude-failover run)') : describeError(err);
        process.stderr.write(`claude-failover switch: ${why}\n`);
        process.exitCode = 1;
      }
    });
}
