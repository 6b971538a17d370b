import { existsSync } from 'node:fs';
import { Command, InvalidArgumentError } from '@commander-js/extra-typings';
import { openStore, storeFile } from '../store/sqlite-store.js';
import { buildStatus, withTasks, type StatusWithTasks } from '../status/status-report.js';
import { COLOURS, NO_COLOURS, renderStatus, wantsColour } from '../status/status-text.js';
import { createAccountLayout } from '../accounts/layout.js';
import { silentLogger } from '../log.js';
import { configFor } from './shared.js';
import { openSharedStoreFor } from '../store/open-shared-store.js';
import { readFleetReport } from '../fleet/fleet.js';

/** Clears the screen and puts the cursor home: each refresh redraws in place. */
const CLEAR = '\x1b[H\x1b[2J';

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0.2 || n > 3600) throw new InvalidArgumentError('a number of seconds from 0.2 to 3600');
  return n;
}

export function statusCommand(): Command {
  return new Command('status')
    .summary('show accounts, limits, sessions, tasks and swaps')
    .description(
      'Shows the active account and where the link points, each account\'s state with a usage bar and the countdown to its reset, the managed sessions (state, account, current task, conversation id, last error), the task queue\'s counts, the recent swaps and what is scheduled, with a partial swap first when there is one.\n\n' +
        'Colour is used only on a terminal, and never with NO_COLOR set or --no-color (FORCE_COLOR turns it on for a pipe). With --watch the screen is redrawn in place every --interval seconds until Ctrl-C; with --json as well, one JSON object per line each time. Reads the state store, so it works whether or not the daemon runs.',
    )
    .option('--json', 'print one JSON object (activeAccount, link, partialSwap, accounts with their forecast, sessions with their task, tasks, swaps, scheduled, generatedAt; fleet: the hosts, with store.shared)')
    .option('--watch', 'refresh in place until Ctrl-C')
    .option('--interval <seconds>', 'seconds between refreshes with --watch (default 2)', seconds, 2)
    .option('--no-color', 'no colour, even on a terminal')
    .action(async (opts, command) => {
      const config = configFor(command);
      if (!existsSync(storeFile(config.stateDir)) && !opts.json) {
        process.stdout.write(`no state yet in ${config.stateDir}: the daemon has not run (start it with claude-failover run)\n`);
      }
      const store = openStore(config.stateDir);
      const layout = createAccountLayout(config, silentLogger());
      const paint = wantsColour(process.env, opts.color, process.stdout.isTTY) ? COLOURS : NO_COLOURS;
      // With store.shared the queue is the fleet's, and the report names every host.
      const shared = config.store.shared ? await openSharedStoreFor(config, config.store.shared) : null;
      const read = async (): Promise<StatusWithTasks> => {
        const now = new Date();
        const report = buildStatus(config, store, await layout.linkedAccount(), now);
        if (!shared) return withTasks(report, store.tasks);
        const fleet = await readFleetReport(shared, config, now);
        return withTasks({ ...report, fleet }, fleet.degraded ? store.tasks : shared.tasks);
      };
      try {
        if (!opts.watch) {
          const report = await read();
          process.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : renderStatus(report, paint) + '\n');
          return;
        }
        await watch(async () => {
          const report = await read();
          process.stdout.write(opts.json ? JSON.stringify(report) + '\n' : `${CLEAR}${renderStatus(report, paint)}\n${paint.dim(`every ${opts.interval}s · Ctrl-C to stop`)}\n`);
        }, opts.interval * 1000);
      } finally {
        store.close();
        await shared?.close();
      }
    });
}

/** Draws now and every `intervalMs` until SIGINT or SIGTERM; resolves then (exit 0). */
function watch(draw: () => Promise<void>, intervalMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const stop = () => {
      stopped = true;
      clearTimeout(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    const tick = () => {
      draw().then(
        () => {
          if (!stopped) timer = setTimeout(tick, intervalMs);
        },
        (err: unknown) => {
          stop();
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    };
    tick();
  });
}
