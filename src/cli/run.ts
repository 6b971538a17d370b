import { Command } from '@commander-js/extra-typings';
import { createLogger } from '../log.js';
import { startDaemon, type Daemon } from '../daemon.js';
import { describeError } from '../errors.js';
import { configFor } from './shared.js';

export function runCommand(): Command {
  return new Command('run')
    .summary('run the daemon in the foreground')
    .description(
      'Runs the daemon in the foreground: keeps the pool alive, watches for usage limits, swaps accounts, resumes every conversation, notifies, returns to the preferred account after its reset, and serves /healthz, /api/status, /api/switch and /metrics on server.listen.\n\n' +
        'SIGTERM, SIGINT (Ctrl-C) or SIGHUP stops it cleanly and leaves the sessions running. One daemon per state dir.',
    )
    .action(async (_opts, command) => {
      const config = configFor(command);
      const logger = createLogger();
      let daemon: Daemon | null = null;
      const requested: { signal: string | null } = { signal: null };
      const stop = (running: Daemon, signal: string) => {
        logger.info({ signal }, 'stopping');
        running.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err: describeError(err) }, 'stop failed');
            process.exit(1);
          },
        );
      };
      // Installed before start-up, which can take seconds (recovery, launching the pool):
      // a signal then is honoured once the daemon is whole, never by dying half-started.
      const onSignal = (signal: string) => {
        if (requested.signal) return;
        requested.signal = signal;
        if (daemon) stop(daemon, signal);
        else logger.info({ signal }, 'stop requested during start-up: stopping once started');
      };
      // A daemon left alone overnight logs a stray fault and keeps the pool working.
      process.on('unhandledRejection', (reason) => {
        logger.error({ err: describeError(reason) }, 'unhandled rejection (a bug: please report it)');
      });
      for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => { onSignal(signal); });
      try {
        daemon = await startDaemon({ config, logger });
      } catch (err) {
        // One plain line on stderr (where the log goes too), not a log record and the line again.
        process.stderr.write(`claude-failover run: ${describeError(err)}\n`);
        process.exit(1);
      }
      if (requested.signal) stop(daemon, requested.signal);
    });
}
