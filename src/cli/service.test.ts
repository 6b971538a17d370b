import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSandbox } from '../demo/sandbox.js';
import { CLI_ENTRY, runCli } from '../../test/helpers/cli.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { privateSocketName } from '../../test/helpers/private-tmux.js';

/**
 * `service` through the built CLI. systemd's own verifier judges the unit. No test may reach
 * a real user manager: systemctl is a recording stand-in on a PATH of the test's own, or absent.
 */
describe('service install / uninstall / status', () => {
  let root: string;
  let configFile: string;
  let bin: string;
  let calls: string;

  beforeEach(async () => {
    root = await makeTempDir('cf-service');
    configFile = (await createSandbox({ root, socket: privateSocketName('cf-service'), accounts: [{ name: 'A', quota: { limit: 10 } }, { name: 'B', quota: { limit: 10 } }] })).configFile;
    bin = join(root, 'bin');
    mkdirSync(bin);
    calls = join(root, 'systemctl-calls');
  });
  afterEach(async () => {
    await removeTempDir(root);
  });

  /** A systemctl that records its arguments and answers with `script` (a shell fragment). */
  const standInSystemctl = (script: string) => {
    const file = join(bin, 'systemctl');
    writeFileSync(file, `#!/bin/sh\necho "$*" >> '${calls}'\n${script}\n`);
    chmodSync(file, 0o755);
  };
  const service = (args: string[], path = bin) =>
    runCli(['--config', configFile, 'service', ...args], { env: { XDG_CONFIG_HOME: join(root, 'xdg'), PATH: path } });
  const unitFile = () => join(root, 'xdg', 'systemd', 'user', 'claude-failover.service');
  const recorded = () => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : []);

  it('--dry-run prints a unit that systemd-analyze verify accepts, naming node, the CLI and the config by absolute path, and writes nothing', async () => {
    const result = await service(['install', '--dry-run'], `${bin}:/usr/bin:/bin`);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const unit = result.stdout;
    expect(unit).toContain(`ExecStart=${realpathSync(process.execPath)} ${realpathSync(CLI_ENTRY)} --config ${configFile} run\n`);
    for (const line of ['Restart=on-failure', 'RestartSec=5', 'StandardOutput=journal', 'StandardError=journal', 'KillMode=process', 'WantedBy=default.target']) {
      expect(unit.split('\n')).toContain(line);
    }
    // The PATH the user has (node's own directory first), so tmux and claude are found.
    const path = /^Environment=PATH=(\S+)$/m.exec(unit)?.[1]?.split(':') ?? [];
    expect(path[0]).toBe(dirname(realpathSync(process.execPath)));
    expect(path).toEqual(expect.arrayContaining([bin, '/usr/bin', '/bin']));
    expect(existsSync(join(root, 'xdg'))).toBe(false);

    // systemd's verifier, as a user unit: it needs a runtime dir of its own (no login session here).
    const analyze = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' });
    if (analyze.status !== 0) throw new Error("systemd-analyze is missing: install Debian's systemd package (.ci/run does) — the unit cannot be verified without it");
    const dir = join(root, 'verify');
    mkdirSync(dir, { mode: 0o700 });
    const file = join(dir, 'claude-failover.service');
    writeFileSync(file, unit);
    const verify = spawnSync('systemd-analyze', ['verify', '--user', file], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: dir } });
    // An unknown key or a bad value is only a warning to systemd: any word from it is a failure here.
    expect(`${verify.stdout}${verify.stderr}`).toBe('');
    expect(verify.status).toBe(0);
  });

  it('the verifier is not a rubber stamp: a bad value and a missing program are reported', () => {
    const analyze = spawnSync('sh', ['-c', 'command -v systemd-analyze'], { encoding: 'utf8' });
    if (analyze.status !== 0) throw new Error("systemd-analyze is missing: install Debian's systemd package (.ci/run does)");
    const dir = join(root, 'verify');
    mkdirSync(dir, { mode: 0o700 });
    const file = join(dir, 'claude-failover.service');
    writeFileSync(file, '[Service]\nExecStart=/nonexistent/node run\nRestart=sometimes\n');
    const verify = spawnSync('systemd-analyze', ['verify', '--user', file], { encoding: 'utf8', env: { ...process.env, XDG_RUNTIME_DIR: dir } });
    expect(verify.stderr).toContain('restart specifier, ignoring: sometimes');
    expect(verify.stderr).toContain('/nonexistent/node');
  });

  it('install writes the unit, then enables and starts it through systemctl --user, and says so', async () => {
    standInSystemctl('exit 0');
    const dry = await service(['install', '--dry-run']);
    const result = await service(['install']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(readFileSync(unitFile(), 'utf8')).toBe(dry.stdout);
    expect(recorded()).toEqual(['--user daemon-reload', '--user enable --now claude-failover.service']);
    expect(result.stdout).toContain(`wrote ${unitFile()}`);
    expect(result.stdout).toContain('enabled and started claude-failover.service');
    // claude is not on this test's PATH: the service would not find them, and it says so.
    expect(result.stdout).toContain('warning: claude is not on PATH');

    // Installing again with the same unit changes nothing and restarts nothing.
    const again = await service(['install']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('kept (unchanged)');
    expect(recorded().filter((c) => c.includes('restart'))).toEqual([]);
  });

  it('install where the user has no systemd manager: the unit is written and the reason is printed', async () => {
    standInSystemctl('echo "Failed to connect to bus: No medium found" >&2; exit 1');
    const result = await service(['install']);
    expect(result.code).toBe(0);
    expect(existsSync(unitFile())).toBe(true);
    expect(result.stdout).toContain("not enabled: the user's systemd manager did not answer (systemctl --user daemon-reload: Failed to connect to bus: No medium found)");
    expect(recorded()).toEqual(['--user daemon-reload']);
  });

  it('install without systemctl at all says so', async () => {
    const result = await service(['install']);
    expect(result.code).toBe(0);
    expect(existsSync(unitFile())).toBe(true);
    expect(result.stdout).toContain('not enabled: systemctl is not installed');
  });

  it('a failing enable is an error (exit 1) with systemctl\'s words', async () => {
    standInSystemctl('case "$2" in enable) echo "Unit claude-failover.service has a bad setting" >&2; exit 1;; esac; exit 0');
    const result = await service(['install']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('systemctl --user enable --now claude-failover.service failed: Unit claude-failover.service has a bad setting');
  });

  it('status reports what systemctl says (text and --json); uninstall disables and removes the unit', async () => {
    standInSystemctl('case "$2" in is-active) echo active;; is-enabled) echo enabled;; esac; exit 0');
    await service(['install']);
    const json = await service(['status', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ unit: unitFile(), installed: true, active: 'active', enabled: 'enabled', reason: null });
    const text = await service(['status']);
    expect(text.stdout).toContain(`${unitFile()} (installed)`);
    expect(text.stdout).toContain('active, enabled');

    const removed = await service(['uninstall']);
    expect(removed.code).toBe(0);
    expect(existsSync(unitFile())).toBe(false);
    expect(recorded()).toContain('--user disable --now claude-failover.service');
    expect(removed.stdout).toContain(`removed ${unitFile()}`);
    const after = JSON.parse((await service(['status', '--json'])).stdout) as { installed: boolean };
    expect(after.installed).toBe(false);
  });

  it('install refuses a config that does not load, writing nothing', async () => {
    writeFileSync(configFile, 'accounts: 3\n');
    const result = await service(['install']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(configFile);
    expect(existsSync(unitFile())).toBe(false);
  });
});
