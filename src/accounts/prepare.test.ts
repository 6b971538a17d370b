import { chmod, mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { makeLayout, type TestLayout } from '../../test/helpers/account-layout.js';
import { CLEANUP_PERIOD_DAYS, HOOK_EVENTS, PANE_HEADER, userStatusLine } from '../claude/settings-file.js';
import { capabilitiesOf, parseClaudeVersion } from '../claude/claude-version.js';
import { shellJoin, shellQuote } from '../claude/shell-quote.js';
import { findBash } from '../relay/statusline-script.js';
import { INSTALLED_MARK, installedCommands } from '../claude/self-command.js';
import type { Account } from '../config/types.js';
import { prepareAccount, type PrepareOptions } from './prepare.js';
import { hookTokenPath, publishListening, readHookToken } from './hook-endpoint.js';

type Json = Record<string, unknown>;

let dir: string;
let layout: TestLayout;
let account: Account;
beforeEach(async () => {
  dir = await makeTempDir('cf-prepare');
  layout = await makeLayout(dir);
  account = layout.config.accounts[0] as Account;
});
afterEach(async () => {
  await removeTempDir(dir);
});

const readJson = async (path: string): Promise<Json> => JSON.parse(await readFile(path, 'utf8')) as Json;
const prepare = (l: TestLayout = layout, options: PrepareOptions = {}) => prepareAccount(l.config, account, installedCommands(l.config), options);
const version = (text: string) => ({ claude: capabilitiesOf(parseClaudeVersion(text)) });
type Hook = { type: string; command?: string; url?: string; headers?: Record<string, string>; allowedEnvVars?: string[] };
const ourHooks = (settings: Json, event: string): Hook[] =>
  ((settings.hooks as Record<string, { hooks: Hook[] }[]>)[event] ?? []).flatMap((g) => g.hooks).filter((h) => h.command?.includes(INSTALLED_MARK) ?? h.headers?.[PANE_HEADER] !== undefined);

const userSettings = {
  model: 'opus',
  cleanupPeriodDays: 7,
  hooks: {
    Stop: [{ matcher: '', hooks: [{ type: 'command', command: 'notify-send "done"' }] }],
    PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: '~/bin/guard.sh' }] }],
  },
  statusLine: { type: 'command', command: "~/bin/my status.sh --it's", padding: 1 },
};

describe('prepareAccount', () => {
  it('creates the home with mode 0700', async () => {
    await prepare();
    expect((await stat(account.home)).mode & 0o777).toBe(0o700);
  });

  it('seeds .claude.json: onboarding done, every pool project trusted by realpath, existing keys kept', async () => {
    // The dedicated project is reached through a symlink: Claude Code keys trust by realpath.
    const realWeb = join(dir, 'real-web');
    await mkdir(realWeb);
    await mkdir(join(dir, 'projects'), { recursive: true });
    await symlink(realWeb, join(dir, 'projects', 'web'));
    await mkdir(account.home, { recursive: true });
    const existing = { userID: 'u-1', oauthAccount: { accountUuid: 'uuid-A' }, projects: { '/old': { allowedTools: ['Bash'] }, [realWeb]: { history: ['hi'] } } };
    await writeFile(join(account.home, '.claude.json'), JSON.stringify(existing));

    await prepare();

    const seeded = await readJson(join(account.home, '.claude.json'));
    expect(seeded).toMatchObject({ userID: 'u-1', oauthAccount: { accountUuid: 'uuid-A' }, hasCompletedOnboarding: true });
    expect(seeded.projects).toEqual({
      '/old': { allowedTools: ['Bash'] },
      [realWeb]: { history: ['hi'], hasTrustDialogAccepted: true },
      [join(dir, 'projects', 'auto')]: { hasTrustDialogAccepted: true },
    });
  });

  it('merges settings.json for 2.1.330 (the fake): user hooks and statusline kept (chained), hooks over HTTP with the token, SessionStart a command, 0600', async () => {
    await mkdir(account.home, { recursive: true });
    await writeFile(join(account.home, 'settings.json'), JSON.stringify(userSettings), { mode: 0o644 });

    await prepare();

    const merged = await readJson(join(account.home, 'settings.json'));
    expect(merged.model).toBe('opus');
    expect(merged.cleanupPeriodDays).toBe(CLEANUP_PERIOD_DAYS);
    expect(merged.skipDangerousModePermissionPrompt).toBe(true);
    const hooks = merged.hooks as Record<string, { hooks: Hook[] }[]>;
    expect(hooks.PreToolUse).toEqual(userSettings.hooks.PreToolUse);
    expect(hooks.Stop?.flatMap((g) => g.hooks.map((h) => h.command))).toContain('notify-send "done"');
    const token = readHookToken(layout.config.stateDir);
    expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect((await stat(hookTokenPath(layout.config.stateDir))).mode & 0o777).toBe(0o600);
    for (const event of HOOK_EVENTS) {
      const ours = ourHooks(merged, event);
      expect(ours, event).toHaveLength(1);
      if (event === 'SessionStart') {
        // The real CLI skips HTTP hooks for SessionStart ("HTTP hooks are not supported for SessionStart").
        expect(ours[0]?.type).toBe('command');
        expect(ours[0]?.command).toContain(' hook ');
        expect(ours[0]?.command).toContain(` ${event} `);
      } else {
        expect(ours[0]).toEqual({ type: 'http', url: 'http://127.0.0.1:7420/hooks', headers: { Authorization: `Bearer ${token ?? ''}`, [PANE_HEADER]: '$TMUX_PANE' }, allowedEnvVars: ['TMUX_PANE'], timeout: 2 });
      }
    }
    const statusLine = merged.statusLine as { command: string; padding: number };
    expect(statusLine.padding).toBe(1);
    // The statusline: the bash script in the state dir (no Node), posting to the listener, chaining the user's.
    const script = join(layout.config.stateDir, 'statusline.sh');
    expect(statusLine.command.startsWith(`${shellJoin([findBash() ?? 'bash', script, 'http://127.0.0.1:7420'])} --chain `)).toBe(true);
    expect(statusLine.command).toContain(`--chain ${shellQuote(userSettings.statusLine.command)}`);
    expect((await stat(script)).mode & 0o777).toBe(0o700);
    expect(userStatusLine(merged)).toBe(userSettings.statusLine.command);
    // It now holds the hook token: 0600, whatever it was.
    expect((await stat(join(account.home, 'settings.json'))).mode & 0o777).toBe(0o600);
    // Made readable by others again (a backup restored, an editor's save): the next prepare,
    // with nothing to change in it, takes that back.
    await chmod(join(account.home, 'settings.json'), 0o644);
    expect(await prepare()).toEqual([]);
    expect((await stat(join(account.home, 'settings.json'))).mode & 0o777).toBe(0o600);
  });

  it('writes what 2.0.77 accepts: command hooks, no StopFailure (ours from before removed), the bypass key in .claude.json', async () => {
    await prepare(); // as 2.1.330 first: HTTP hooks and a StopFailure hook
    expect(await prepare(layout, version('2.0.77 (Claude Code)'))).toHaveLength(2);
    const settings = await readJson(join(account.home, 'settings.json'));
    expect(Object.keys(settings.hooks as Json).sort()).toEqual(['SessionStart', 'Stop', 'UserPromptSubmit']);
    for (const event of ['SessionStart', 'Stop', 'UserPromptSubmit']) expect(ourHooks(settings, event).map((h) => h.type), event).toEqual(['command']);
    expect(JSON.stringify(settings)).not.toContain('"http"');
    expect((await readJson(join(account.home, '.claude.json'))).bypassPermissionsModeAccepted).toBe(true);
    expect(await prepare(layout, version('2.0.77 (Claude Code)'))).toEqual([]);
  });

  it('keeps a user StopFailure hook but drops ours for 2.0.77, and back to HTTP for 2.1.330 without duplicates', async () => {
    await mkdir(account.home, { recursive: true });
    const mine = { type: 'command', command: 'log-failure.sh' };
    await writeFile(join(account.home, 'settings.json'), JSON.stringify({ hooks: { StopFailure: [{ matcher: '', hooks: [mine] }] } }));
    await prepare(layout, version('2.0.77'));
    expect((await readJson(join(account.home, 'settings.json'))).hooks).toMatchObject({ StopFailure: [{ matcher: '', hooks: [mine] }] });
    await prepare(layout, version('2.1.330'));
    await prepare(layout, version('2.1.330'));
    const settings = await readJson(join(account.home, 'settings.json'));
    for (const event of HOOK_EVENTS) expect(ourHooks(settings, event), event).toHaveLength(1);
    expect(ourHooks(settings, 'StopFailure')[0]?.type).toBe('http');
    expect((settings.hooks as Record<string, { hooks: Hook[] }[]>).StopFailure?.flatMap((g) => g.hooks)).toContainEqual(mine);
  });

  it('writes hook commands when no listener is known (port 0, no daemon), and follows the port a daemon published', async () => {
    const zero = await makeLayout(join(dir, 'zero'));
    const config = { ...zero.config, server: { ...zero.config.server, port: 0, listen: '127.0.0.1:0' } };
    account = config.accounts[0] as Account;
    await prepareAccount(config, account, installedCommands(config));
    const before = await readJson(join(account.home, 'settings.json'));
    for (const event of HOOK_EVENTS) expect(ourHooks(before, event).map((h) => h.type), event).toEqual(['command']);
    expect((before.statusLine as { command: string }).command).toContain(' statusline --socket ');
    publishListening(config.stateDir, 'http://127.0.0.1:45678');
    await prepareAccount(config, account, installedCommands(config));
    const after = await readJson(join(account.home, 'settings.json'));
    expect(ourHooks(after, 'Stop')).toMatchObject([{ type: 'http', url: 'http://127.0.0.1:45678/hooks' }]);
  });

  it('unknown version: the most compatible settings (command hooks, no StopFailure, both bypass keys)', async () => {
    await prepare(layout, version('not a version'));
    const settings = await readJson(join(account.home, 'settings.json'));
    expect(Object.keys(settings.hooks as Json).sort()).toEqual(['SessionStart', 'Stop', 'UserPromptSubmit']);
    expect(JSON.stringify(settings)).not.toContain('"http"');
    expect(settings.skipDangerousModePermissionPrompt).toBe(true);
    expect((await readJson(join(account.home, '.claude.json'))).bypassPermissionsModeAccepted).toBe(true);
  });

  it('adds our URL and TMUX_PANE to allow-lists the user set, and leaves unset lists unset', async () => {
    await mkdir(account.home, { recursive: true });
    await writeFile(join(account.home, 'settings.json'), JSON.stringify({ allowedHttpHookUrls: ['https://hooks.example/*'], httpHookAllowedEnvVars: ['MY_VAR'] }));
    await prepare();
    const settings = await readJson(join(account.home, 'settings.json'));
    expect(settings.allowedHttpHookUrls).toEqual(['https://hooks.example/*', 'http://127.0.0.1:7420/hooks']);
    expect(settings.httpHookAllowedEnvVars).toEqual(['MY_VAR', 'TMUX_PANE']);
    const plain = await makeLayout(join(dir, 'plain2'));
    account = plain.config.accounts[0] as Account;
    await prepare(plain);
    const untouched = await readJson(join(account.home, 'settings.json'));
    expect(untouched).not.toHaveProperty('allowedHttpHookUrls');
    expect(untouched).not.toHaveProperty('httpHookAllowedEnvVars');
  });

  it('does not set skipDangerousModePermissionPrompt when the args do not bypass permissions', async () => {
    const plain = await makeLayout(join(dir, 'plain'), { claudeArgs: [] });
    account = plain.config.accounts[0] as Account;
    await prepare(plain);
    expect(await readJson(join(account.home, 'settings.json'))).not.toHaveProperty('skipDangerousModePermissionPrompt');
  });

  it('is idempotent: a second run reports nothing and leaves both files byte-identical (and, with no token inside, their modes)', async () => {
    await mkdir(account.home, { recursive: true });
    await writeFile(join(account.home, 'settings.json'), JSON.stringify(userSettings), { mode: 0o640 });
    expect((await prepare(layout, version('2.0.77'))).length).toBe(2);
    const files = ['settings.json', '.claude.json'].map((n) => join(account.home, n));
    const first = await Promise.all(files.map((f) => readFile(f)));
    expect(await prepare(layout, version('2.0.77'))).toEqual([]);
    expect(await Promise.all(files.map((f) => readFile(f)))).toEqual(first);
    expect(await readJson(files[0] ?? '')).not.toHaveProperty('skipDangerousModePermissionPrompt');
    expect((await stat(files[0] ?? '')).mode & 0o777).toBe(0o640);
    expect((await stat(files[1] ?? '')).mode & 0o777).toBe(0o600);
  });
});
