import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from '@commander-js/extra-typings';
import { configFor } from './shared.js';

export const UNIT_NAME = 'claude-failover.service';
const SYSTEMCTL_TIMEOUT_MS = 20_000;

/** Where systemd looks for a user's own units: $XDG_CONFIG_HOME/systemd/user (~/.config when unset). */
export function userUnitFile(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(xdg, 'systemd', 'user', UNIT_NAME);
}

/** One word of a unit file's command line or assignment: specifiers (`%`) and variables (`$`) are never expanded. */
function unitWord(value: string, command: boolean): string {
  const specifiersEscaped = value.replace(/%/g, '%%');
  const escaped = command ? specifiersEscaped.replace(/\$/g, '$$$$') : specifiersEscaped;
  if (/^[A-Za-z0-9_@+=:,./%$-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export interface UnitSpec {
  readonly node: string;
  readonly cli: string;
  readonly configFile: string;
  readonly path: string;
}

/**
 * The user unit that runs the daemon. `KillMode=process`: a tmux server the daemon started
 * lives in the service's control group, and stopping or restarting the daemon must never
 * take the sessions with it (the daemon leaves them running by design).
 */
export function renderUnit(spec: UnitSpec): string {
  const exec = [spec.node, spec.cli, '--config', spec.configFile, 'run'].map((w) => unitWord(w, true)).join(' ');
  return [
    `# Written by claude-failover service install; claude-failover service uninstall removes it.`,
    '[Unit]',
    'Description=claude-failover: keeps Claude Code sessions in tmux working across accounts',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${exec}`,
    // tmux and claude are found the way the user's own shell finds them.
    `Environment=${unitWord(`PATH=${spec.path}`, false)}`,
    'Restart=on-failure',
    'RestartSec=5',
    'KillMode=process',
    'TimeoutStopSec=45',
    'StandardOutput=journal',
    'StandardError=journal',
    'SyslogIdentifier=claude-failover',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}

/** The running node and the CLI entry beside this file, both resolved through symlinks (a global install links its bin). */
function unitSpec(configFile: string): UnitSpec {
  const cli = realpathSync(join(dirname(fileURLToPath(import.meta.url)), 'main.js'));
  const node = realpathSync(process.execPath);
  // The node that runs the daemon is found first, whatever PATH held.
  const dirs = [dirname(node), ...(process.env.PATH ?? '').split(delimiter).filter((d) => isAbsolute(d))];
  return { node, cli, configFile, path: [...new Set(dirs)].join(delimiter) };
}

function onPath(program: string, path: string): boolean {
  return path.split(delimiter).some((dir) => dir !== '' && existsSync(join(dir, program)));
}

interface SystemctlRun {
  readonly ok: boolean;
  /** The command as a person would type it. */
  readonly command: string;
  readonly output: string;
  /** systemctl itself is not installed. */
  readonly missing: boolean;
}

function systemctl(...args: string[]): Promise<SystemctlRun> {
  const command = `systemctl --user ${args.join(' ')}`;
  return new Promise((done) => {
    execFile('systemctl', ['--user', ...args], { timeout: SYSTEMCTL_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      const output = `${stdout}${stderr}`.trim();
      const missing = (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
      done({ ok: err === null, command, output: missing ? 'systemctl is not installed' : output || (err?.message ?? ''), missing });
    });
  });
}

const print = (line: string) => process.stdout.write(`${line}\n`);

async function install(configFile: string, dryRun: boolean): Promise<number> {
  const spec = unitSpec(configFile);
  const unit = renderUnit(spec);
  if (dryRun) {
    process.stdout.write(unit);
    return 0;
  }
  const file = userUnitFile();
  const before = existsSync(file) ? readFileSync(file, 'utf8') : null;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, unit, { mode: 0o644 });
  print(`${before === null ? 'wrote' : before === unit ? 'kept (unchanged)' : 'updated'} ${file}`);
  for (const program of ['tmux', 'claude']) {
    if (!onPath(program, spec.path)) print(`warning: ${program} is not on PATH (${spec.path}): the service will not find it`);
  }
  const reload = await systemctl('daemon-reload');
  if (!reload.ok) {
    print(`not enabled: ${reload.missing ? 'systemctl is not installed' : `the user's systemd manager did not answer (${reload.command}: ${reload.output})`}.`);
    print(`The unit is written; where systemd runs, enable it with: systemctl --user daemon-reload && systemctl --user enable --now ${UNIT_NAME}`);
    print(`Or run the daemon yourself: claude-failover --config ${configFile} run`);
    return 0;
  }
  const enable = await systemctl('enable', '--now', UNIT_NAME);
  if (!enable.ok) {
    process.stderr.write(`${enable.command} failed: ${enable.output}\n`);
    return 1;
  }
  // A unit already running keeps its old command line until it restarts.
  if (before !== null && before !== unit) {
    const restart = await systemctl('restart', UNIT_NAME);
    if (!restart.ok) {
      process.stderr.write(`${restart.command} failed: ${restart.output}\n`);
      return 1;
    }
  }
  print(`enabled and started ${UNIT_NAME} (systemctl --user enable --now${before !== null && before !== unit ? ', then restart' : ''})`);
  print(`logs: journalctl --user -u ${UNIT_NAME} -f`);
  print(`to keep it running while you are logged out: loginctl enable-linger "$USER"`);
  return 0;
}

async function uninstall(): Promise<number> {
  const file = userUnitFile();
  const disable = await systemctl('disable', '--now', UNIT_NAME);
  if (disable.ok) print(`stopped and disabled ${UNIT_NAME}`);
  else print(`not disabled (${disable.missing ? 'systemctl is not installed' : `${disable.command}: ${disable.output}`})`);
  if (!existsSync(file)) {
    print(`no unit at ${file}: nothing to remove`);
    return 0;
  }
  rmSync(file);
  print(`removed ${file}`);
  if (disable.ok) await systemctl('daemon-reload');
  return 0;
}

export interface ServiceStatus {
  readonly unit: string;
  readonly installed: boolean;
  /** `systemctl --user is-active` (null: the user's systemd manager could not be asked). */
  readonly active: string | null;
  readonly enabled: string | null;
  readonly reason: string | null;
}

async function serviceStatus(): Promise<ServiceStatus> {
  const file = userUnitFile();
  const [active, enabled] = [await systemctl('is-active', UNIT_NAME), await systemctl('is-enabled', UNIT_NAME)];
  // is-active answers "inactive" with a non-zero code: an answer is a word on its own line.
  const word = (run: SystemctlRun) => (/^[a-z-]+$/.test(run.output) ? run.output : null);
  const reachable = word(active) !== null;
  return { unit: file, installed: existsSync(file), active: word(active), enabled: word(enabled), reason: reachable ? null : active.missing ? 'systemctl is not installed' : `${active.command}: ${active.output}` };
}

export function serviceCommand(): Command {
  const service = new Command('service')
    .summary('run the daemon as a systemd user service')
    .description(
      'Installs, removes or inspects a systemd user unit that runs `claude-failover run` for this config: started at login, restarted 5 s after a failure, logging to the journal (journalctl --user -u claude-failover).\n\n' +
        'The unit names the node and the CLI that ran this command by absolute path, the config file, and your PATH, so the daemon finds tmux and claude as your shell does. Stopping the service stops only the daemon: the sessions keep running.',
    );
  service
    .command('install')
    .summary('write the unit, then enable and start it')
    .description(
      `Writes ${UNIT_NAME} under $XDG_CONFIG_HOME/systemd/user (~/.config when XDG_CONFIG_HOME is not set) for the config given with --config (checked first), then enables and starts it with systemctl --user and says what it did.\n\n` +
        'Where systemd does not run for your user, the unit is still written and the command says why it could not be started. Run it again after moving node or the config: the unit is rewritten and the service restarted.',
    )
    .option('--dry-run', 'print the unit and write nothing')
    .action(async (opts, command) => {
      const config = configFor(command);
      if (config.file === null) throw new Error('the config has no file to name in the unit');
      process.exitCode = await install(config.file, opts.dryRun === true);
    });
  service
    .command('uninstall')
    .summary('stop, disable and remove the unit')
    .description(`Stops and disables ${UNIT_NAME} with systemctl --user where systemd runs, then removes the unit file. The sessions keep running.`)
    .action(async () => {
      process.exitCode = await uninstall();
    });
  service
    .command('status')
    .summary('whether the unit is installed, enabled and running')
    .description(`Says where the unit file is, whether it exists, and what systemctl --user reports for ${UNIT_NAME} (active, enabled), or why it could not be asked.`)
    .option('--json', 'print one JSON object (unit, installed, active, enabled, reason)')
    .action(async (opts) => {
      const status = await serviceStatus();
      if (opts.json) {
        print(JSON.stringify(status, null, 2));
        return;
      }
      print(`unit:      ${status.unit} (${status.installed ? 'installed' : 'not installed'})`);
      if (status.reason !== null) print(`systemd:   not asked: ${status.reason}`);
      else print(`systemd:   ${status.active ?? '?'}, ${status.enabled ?? '?'}`);
      if (status.active === 'active' || status.active === 'failed') print(`logs:      journalctl --user -u ${UNIT_NAME}`);
    });
  return service;
}
