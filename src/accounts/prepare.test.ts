import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { makeLayout, type TestLayout } from '../../test/helpers/account-layout.js';
import { CLEANUP_PERIOD_DAYS, HOOK_EVENTS, userStatusLine } from '../claude/settings-file.js';
import { shellQuote } from '../claude/shell-quote.js';
import { INSTALLED_MARK, installedCommands } from '../cli/self-command.js';
import type { Account } from '../config/types.js';
import { prepareAccount } from './prepare.js';

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
const prepare = (l: TestLayout = layout) => prepareAccount(l.config, account, installedCommands(l.config));

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

  it('merges settings.json: user hooks and statusline kept (chained), our 4 hooks installed, cleanup raised, bypass prompt skipped', async () => {
    await mkdir(account.home, { recursive: true });
    await writeFile(join(account.home, 'settings.json'), JSON.stringify(userSettings), { mode: 0o644 });

    await prepare();

    const merged = await readJson(join(account.home, 'settings.json'));
    expect(merged.model).toBe('opus');
    expect(merged.cleanupPeriodDays).toBe(CLEANUP_PERIOD_DAYS);
    expect(merged.skipDangerousModePermissionPrompt).toBe(true);
    const hooks = merged.hooks as Record<string, { hooks: { command: string }[] }[]>;
    expect(hooks.PreToolUse).toEqual(userSettings.hooks.PreToolUse);
    expect(hooks.Stop?.flatMap((g) => g.hooks.map((h) => h.command))).toContain('notify-send "done"');
    for (const event of HOOK_EVENTS) {
      const ours = (hooks[event] ?? []).flatMap((g) => g.hooks.map((h) => h.command)).filter((c) => c.includes(INSTALLED_MARK));
      expect(ours, event).toHaveLength(1);
      expect(ours[0]).toContain(` hook `);
      expect(ours[0]).toContain(` ${event} `);
    }
    const statusLine = merged.statusLine as { command: string; padding: number };
    expect(statusLine.padding).toBe(1);
    expect(statusLine.command).toContain(' statusline ');
    expect(statusLine.command).toContain(`--chain ${shellQuote(userSettings.statusLine.command)}`);
    expect(userStatusLine(merged)).toBe(userSettings.statusLine.command);
    // The file's mode is kept.
    expect((await stat(join(account.home, 'settings.json'))).mode & 0o777).toBe(0o644);
  });

  it('does not set skipDangerousModePermissionPrompt when the args do not bypass permissions', async () => {
    const plain = await makeLayout(join(dir, 'plain'), { claudeArgs: [] });
    account = plain.config.accounts[0] as Account;
    await prepare(plain);
    expect(await readJson(join(account.home, 'settings.json'))).not.toHaveProperty('skipDangerousModePermissionPrompt');
  });

  it('is idempotent: a second run reports nothing and leaves both files byte-identical', async () => {
    await mkdir(account.home, { recursive: true });
    await writeFile(join(account.home, 'settings.json'), JSON.stringify(userSettings), { mode: 0o640 });
    expect((await prepare()).length).toBe(2);
    const files = ['settings.json', '.claude.json'].map((n) => join(account.home, n));
    const first = await Promise.all(files.map((f) => readFile(f)));
    expect(await prepare()).toEqual([]);
    expect(await Promise.all(files.map((f) => readFile(f)))).toEqual(first);
    expect((await stat(files[0] ?? '')).mode & 0o777).toBe(0o640);
    expect((await stat(files[1] ?? '')).mode & 0o777).toBe(0o600);
  });
});
