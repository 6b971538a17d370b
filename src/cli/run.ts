import { Command } from '@commander-js/extra-typings';
import { createLogger } from '../log.js';
import { startDaemon } from '../daemon.js';
import { describeError } from '../errors.js';
import { configFor } from './shared.js';

export function runCommand(): Command {
  return new Command('run')
    .description(
      'run the daemon in the foreground: keep the pool alive, watch for usage limits, swap accounts,\n' +
        'resume every conversation, notify, return to the preferred account after its reset, serve /healthz.\n' +
        'SIGTERM or Ctrl-C stops it cleanly and leaves the sessions running.',
    )
    .action(async (_opts, command) => {
      const config = configFor(command);
      const logger = createLogger();
      let daemon;
      try {
        daemon = await startDaemon({ config, logger });
      } catch (err) {
        logger.fatal({ err: describeError(err) }, 'the daemon could not start');
        process.stderr.write(`claude-failover run: ${describeError(err)}\n`);
        process.exit(1);
      }
      const running = daemon;
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'stopping');
        running.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err: describeError(err) }, 'stop failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => { stop('SIGTERM'); });
      process.on('SIGINT', () => { stop('SIGINT'); });
      process.on('SIGHUP', () => { stop('SIGHUP'); });
    });
}
