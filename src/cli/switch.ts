import { Command, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { sendRequest } from '../monitor/control-socket.js';
import { describeOutcome } from '../switcher/describe-outcome.js';
import { describeError, FailoverError } from '../errors.js';
import { daemonSocketPath } from '../claude/self-command.js';
import { stateDirProblem } from '../store/state-dir.js';
import { configFor } from './shared.js';
import { readSwitchOutcome } from './switch-outcome.js';

export function switchCommand(): CommandUnknownOpts {
  return new Command('switch')
    .summary('move the pool to another account now')
    .description(
      'Asks the running daemon to move the whole pool to ACCOUNT now, or to the best available account when none is named. The request goes through the same queue as the swaps made at a limit, and is refused while a partial swap is unresolved.\n\n' +
        'Prints the outcome; exit 0 when the pool moved (or was already there), 1 otherwise or when the daemon is not running. --json prints the outcome as the daemon gives it (`result`: done, cancelled, partial, no-target, skipped, refused or deferred, with its fields), or `{"error": …}` when the daemon could not be asked.',
    )
    .argument('[account]', 'account name from the config')
    .option('--json', 'print the outcome as JSON')
    .action(async (account, opts, command) => {
      const config = configFor(command);
      try {
        const outcome = readSwitchOutcome(await sendRequest(daemonSocketPath(config), 'switch', { account: account ?? null }, { timeoutMs: 10 * 60_000 }));
        process.stdout.write((opts.json ? JSON.stringify(outcome, null, 2) : describeOutcome(outcome)) + '\n');
        process.exitCode = outcome.result === 'done' || outcome.result === 'skipped' ? 0 : 1;
      } catch (err) {
        const notRunning = err instanceof FailoverError && err.code === 'DAEMON_NOT_RUNNING';
        const why = notRunning ? (stateDirProblem(config.stateDir) ?? 'the daemon is not running (start it with: claude-failover run)') : describeError(err);
        if (opts.json) process.stdout.write(JSON.stringify({ error: why }, null, 2) + '\n');
        process.stderr.write(`claude-failover switch: ${why}\n`);
        process.exitCode = 1;
      }
    });
}
