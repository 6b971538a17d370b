import { Command } from '@commander-js/extra-typings';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { describeDatabase } from '../store/postgres/database-url.js';
import { configOption } from './shared.js';

function summary(config: Config): string {
  const auto = config.pool.autonomous;
  const lines = [
    `config ${config.file ?? '(in memory)'}: ok`,
    `  link        ${config.link}`,
    `  shared dir  ${config.sharedDir}`,
    `  state dir   ${config.stateDir}`,
    `  accounts    ${config.accounts.map((a, i) => `${i === 0 ? '*' : ''}${a.name} (${a.home})`).join(', ')}`,
    `  claude      ${[config.claude.command, ...config.claude.args].join(' ')}`,
    `  tmux        ${config.tmux.socket === null ? 'default server' : `-L ${config.tmux.socket}`}`,
    `  pool        ${auto.max > 0 ? `${auto.prefix}${auto.startIndex}..${auto.prefix}${auto.startIndex + auto.max - 1} (min ${auto.min}) in ${auto.project}` : 'no autonomous sessions'}` +
      `; dedicated: ${config.pool.dedicated.length > 0 ? config.pool.dedicated.map((d) => `${d.name} (${d.project})`).join(', ') : 'none'}`,
    `  monitor     poll ${config.monitor.pollIntervalMs} ms, cooldown ${config.monitor.cooldownMs} ms, return margin ${config.monitor.returnMarginMs} ms, proactive ${config.monitor.proactivePercent === null ? 'off' : `${config.monitor.proactivePercent}%`}`,
    `  notify      telegram ${config.notify.telegram ? 'on' : 'off'}, ${config.notify.webhooks.length} webhook(s)`,
    `  server      ${config.server.listen}${config.server.token ? ' (token set)' : ' (no token: state-changing requests refused)'}`,
    // The shared database by host, port and name only: its URL may hold a password.
    `  fleet       ${config.store.shared ? `host ${config.fleet.host}, shared store postgres ${describeDatabase(config.store.shared.url)}${config.fleet.spread ? ', spread' : ''}, lease ${config.fleet.leaseMs} ms` : 'this host only (no store.shared)'}`,
  ];
  return lines.join('\n');
}

/** The same summary for a script (`config check --json`): no secret, only whether one is set. */
export function summaryJson(config: Config): Record<string, unknown> {
  const auto = config.pool.autonomous;
  return {
    ok: true,
    file: config.file ?? null,
    link: config.link,
    sharedDir: config.sharedDir,
    stateDir: config.stateDir,
    accounts: config.accounts.map((a, i) => ({ name: a.name, home: a.home, preferred: i === 0 })),
    claude: { command: config.claude.command, args: config.claude.args },
    tmux: { socket: config.tmux.socket },
    pool: {
      autonomous: { prefix: auto.prefix, startIndex: auto.startIndex, min: auto.min, max: auto.max, project: auto.project },
      dedicated: config.pool.dedicated.map((d) => ({ name: d.name, project: d.project })),
    },
    monitor: {
      pollIntervalMs: config.monitor.pollIntervalMs,
      cooldownMs: config.monitor.cooldownMs,
      returnMarginMs: config.monitor.returnMarginMs,
      proactivePercent: config.monitor.proactivePercent,
      proactiveForecastMs: config.monitor.proactiveForecastMs,
      usagePollMs: config.monitor.usagePollMs,
    },
    notify: { telegram: config.notify.telegram !== null, webhooks: config.notify.webhooks.length },
    server: { listen: config.server.listen, tokenSet: config.server.token !== null },
    store: { shared: config.store.shared ? `postgres ${describeDatabase(config.store.shared.url)}` : null },
    fleet: config.fleet,
  };
}

export function configCommand(): Command {
  const config = new Command('config').summary('inspect the configuration').description('Inspects the configuration: `config check` validates it.');
  config
    .command('check')
    .summary('validate the config file and print a summary')
    .description('Validates the config file and prints a summary of what it resolves to: the link, the shared and state dirs, the accounts, the pool, the monitor, notifications, the listener and the fleet (the shared database by host, port and name, never its URL). Every problem is listed at once with its field and line, and the exit code is 1. --json prints the summary as an object (`ok: true`), or `{"ok": false, "report": …}` for a config that does not pass (secrets never: only whether a token is set).')
    .option('--json', 'print the summary (or the problems) as JSON')
    .action((opts, command) => {
      const result = loadConfig({ flag: configOption(command) });
      if (!result.ok) {
        if (opts.json) process.stdout.write(JSON.stringify({ ok: false, report: result.report }, null, 2) + '\n');
        else process.stderr.write(result.report + '\n');
        process.exitCode = 1;
        return;
      }
      process.stdout.write((opts.json ? JSON.stringify(summaryJson(result.config), null, 2) : summary(result.config)) + '\n');
    });
  return config;
}
