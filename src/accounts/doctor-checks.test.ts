import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { makeLayout, writeLogin, type TestLayout } from '../../test/helpers/account-layout.js';
import { runCli } from '../../test/helpers/cli.js';
import { installedCommands } from '../claude/self-command.js';
import { type Check, runDoctorChecks } from './doctor-checks.js';
import { runInit } from './init.js';
import { capabilitiesOf, parseClaudeVersion } from '../claude/claude-version.js';
import { checkSettings } from '../claude/settings-file.js';
import { prepareAccount } from './prepare.js';

let dir: string;
let layout: TestLayout;
let homeA: string;
let homeB: string;
beforeEach(async () => {
  dir = await makeTempDir('cf-doctor');
  layout = await makeLayout(dir);
  [homeA, homeB] = layout.config.accounts.map((a) => a.home) as [string, string];
});
afterEach(async () => {
  await removeTempDir(dir);
});

/** What init leaves, plus a distinct login in each home and the state dir the daemon makes. */
async function healthy(): Promise<void> {
  await runInit(layout.config, { dryRun: false, commands: installedCommands(layout.config), log: () => undefined });
  await writeLogin(homeA, { refreshToken: 'rt-A', accountUuid: 'uuid-A', email: 'a@example.com' });
  await writeLogin(homeB, { refreshToken: 'rt-B', accountUuid: 'uuid-B', email: 'b@example.com' });
  await mkdir(layout.config.stateDir, { recursive: true });
}

const doctor = () => runDoctorChecks(layout.config, { partialSwap: null });
const failing = (checks: Check[]) => checks.filter((c) => c.status === 'fail').map((c) => c.name);
const check = (checks: Check[], name: string) => checks.find((c) => c.name === name);

describe('doctor', () => {
  it('passes a healthy layout with every check ok', async () => {
    await healthy();
    const checks = await doctor();
    expect(checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual([
      'link', 'shared-dir', 'shared-links:A', 'shared-links:B', 'login:A', 'identity:A', 'login:B', 'identity:B', 'state-dir', 'tmux', 'claude', 'settings:A', 'settings:B', 'partial-swap',
    ]);
  });

  it('fails a shared link replaced by a real directory', async () => {
    await healthy();
    await unlink(join(homeB, 'projects'));
    await mkdir(join(homeB, 'projects'));
    const checks = await doctor();
    expect(failing(checks)).toEqual(['shared-links:B']);
    expect(check(checks, 'shared-links:B')?.fix).toContain('claude-failover init');
  });

  it('fails two homes with the same accountUuid', async () => {
    await healthy();
    await writeLogin(homeB, { refreshToken: 'rt-B', accountUuid: 'uuid-A', email: 'b@example.com' });
    expect(failing(await doctor())).toEqual(['identity:B']);
  });

  it('fails two homes with the same email when one of them records no accountUuid', async () => {
    await healthy();
    await writeLogin(homeB, { refreshToken: 'rt-B', email: 'A@example.com' });
    expect(failing(await doctor())).toEqual(['identity:B']);
  });

  it('fails the same refresh token in two homes', async () => {
    await healthy();
    await writeLogin(homeB, { refreshToken: 'rt-A', accountUuid: 'uuid-B', email: 'b@example.com' });
    expect(failing(await doctor())).toEqual(['login-copy:B']);
  });

  it('fails a symlinked .credentials.json', async () => {
    await healthy();
    await unlink(join(homeB, '.credentials.json'));
    await symlink(join(homeA, '.credentials.json'), join(homeB, '.credentials.json'));
    const checks = await doctor();
    expect(failing(checks)).toEqual(['login:B']);
    expect(check(checks, 'login:B')?.message).toContain('is a link');
  });

  it('still checks the identity of a home whose credentials file is missing', async () => {
    await healthy();
    await writeLogin(homeB, { refreshToken: 'rt-B', accountUuid: 'uuid-A' });
    await rm(join(homeB, '.credentials.json'));
    expect(failing(await doctor())).toEqual(['login:B', 'identity:B']);
  });

  it('fails credentials readable by others', async () => {
    await healthy();
    await chmod(join(homeB, '.credentials.json'), 0o644);
    const checks = await doctor();
    expect(failing(checks)).toEqual(['login-mode:B']);
    expect(check(checks, 'login-mode:B')?.fix).toContain('chmod 600');
  });

  it('fails a dangling ~/.claude link to a configured home that does not exist', async () => {
    await healthy();
    await rename(homeA, join(dir, 'moved-away'));
    const link = check(await doctor(), 'link');
    expect(link?.status).toBe('fail');
    expect(link?.message).toContain('dangling');
  });

  it('fails a missing shared dir without creating it; a missing state dir is only a warning', async () => {
    const checks = await doctor();
    expect(check(checks, 'shared-dir')).toMatchObject({ status: 'fail', fix: 'run `claude-failover init`' });
    expect(check(checks, 'state-dir')?.status).toBe('warn');
    expect(existsSync(layout.config.sharedDir)).toBe(false);
    expect(existsSync(layout.config.stateDir)).toBe(false);
  });

  it('reports a set partial-swap flag as a fail', async () => {
    await healthy();
    const checks = await runDoctorChecks(layout.config, { partialSwap: { set: true, reason: 'flip-back failed' } });
    expect(failing(checks)).toEqual(['partial-swap']);
  });

  describe('the built CLI', () => {
    const cli = () => runCli(['--config', layout.configFile, 'doctor', '--json'], { env: { HOME: layout.home } });

    it('exits 0 on a healthy layout, every line ok, the partial-swap line included', async () => {
      await healthy();
      const run = await cli();
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const checks = JSON.parse(run.stdout) as Check[];
      expect(checks.filter((c) => c.status !== 'ok')).toEqual([]);
      expect(check(checks, 'partial-swap')?.status).toBe('ok');
    });

    it('exits 1 on a broken layout and names the check', async () => {
      await healthy();
      await unlink(join(homeA, 'session-env'));
      await mkdir(join(homeA, 'session-env'));
      const run = await cli();
      expect(run.code).toBe(1);
      expect(failing(JSON.parse(run.stdout) as Check[])).toEqual(['shared-links:A']);
    });

    it('exits 1 on a dangling link, in plain text with the fix', async () => {
      await healthy();
      await rename(homeA, join(dir, 'moved-away'));
      const run = await runCli(['--config', layout.configFile, 'doctor'], { env: { HOME: layout.home } });
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^fail {2}.*dangling link\)\n {6}fix: run `claude-failover init`/m);
    });
  });

  it('fails settings the installed version would reject, and a missing bypass key', async () => {
    await healthy();
    const settingsPath = join(homeA, 'settings.json');
    const settings = JSON.parse(await readFile(settingsPath, 'utf8')) as { skipDangerousModePermissionPrompt?: boolean };
    delete settings.skipDangerousModePermissionPrompt;
    await writeFile(settingsPath, JSON.stringify(settings));
    const checks = await doctor();
    expect(failing(checks)).toEqual(['settings:A']);
    expect(check(checks, 'settings:A')?.message).toContain('skipDangerousModePermissionPrompt');
    expect(check(checks, 'settings:B')?.message).toContain('fit Claude Code 2.1.330');
  });

  it('says what 2.0.77 would reject in settings written for 2.1.330, and passes what init writes for 2.0.77', async () => {
    await healthy();
    const account = layout.config.accounts[0];
    if (!account) throw new Error('no account');
    const read = async (name: string) => JSON.parse(await readFile(join(homeA, name), 'utf8')) as Record<string, unknown>;
    const old = capabilitiesOf(parseClaudeVersion('2.0.77 (Claude Code)'));
    const findings = checkSettings(await read('settings.json'), await read('.claude.json'), old, { skipBypassPrompt: true });
    const failed = findings.filter((f) => f.status === 'fail').map((f) => f.message).join('\n');
    expect(failed).toContain('StopFailure');
    expect(failed).toContain('"type": "http"');
    expect(failed).toContain('bypassPermissionsModeAccepted');
    await prepareAccount(layout.config, account, installedCommands(layout.config), { claude: old });
    expect(checkSettings(await read('settings.json'), await read('.claude.json'), old, { skipBypassPrompt: true })).toEqual([]);
    // Back on 2.1.330: command hooks where HTTP would do are fine, and said; the missing StopFailure is a warning.
    const now = checkSettings(await read('settings.json'), await read('.claude.json'), capabilitiesOf(parseClaudeVersion('2.1.330')), { skipBypassPrompt: true });
    expect(now.filter((f) => f.status !== 'ok')).toEqual([{ status: 'warn', message: "the daemon's StopFailure hook(s) are not installed" }]);
    expect(now.find((f) => f.status === 'ok')?.message).toContain('run as commands');
  });
});
