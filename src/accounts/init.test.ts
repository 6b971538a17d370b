import { lstat, mkdir, readFile, readdir, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { fileChecksums, makeLayout, snapshotTree, type TestLayout } from '../../test/helpers/account-layout.js';
import { runCli } from '../../test/helpers/cli.js';
import { shellQuote } from '../claude/shell-quote.js';
import { installedCommands } from '../claude/self-command.js';
import { runInit } from './init.js';
import { SHARED_NAMES } from './shared-links.js';

let dir: string;
let layout: TestLayout;
beforeEach(async () => {
  dir = await makeTempDir('cf-init');
  // The second home has a space in its path: the printed login command must quote it.
  layout = await makeLayout(dir, { accounts: { A: '.claude-A', B: 'Claude B' } });
});
afterEach(async () => {
  await removeTempDir(dir);
});

const userSettings = { model: 'opus', hooks: { Stop: [{ matcher: '', hooks: [{ type: 'command', command: 'notify-send done' }] }] }, statusLine: { type: 'command', command: 'my-status' } };

/** A real ~/.claude as a person has it before init: transcripts, a login, settings, the rest. */
async function writeRealClaudeDir(l: TestLayout): Promise<void> {
  const files: Record<string, string> = {
    'projects/-work-app/s1.jsonl': '{"type":"user","sessionId":"s1"}\n',
    'projects/-work-app/s1/subagents/agent-1.jsonl': '{"type":"assistant"}\n',
    'projects/-work-app/clash.jsonl': 'the migrated transcript\n',
    'projects/-other/s2.jsonl': '{"type":"user","sessionId":"s2"}\n',
    'session-env/s1/hook-0.sh': 'export A=1\n',
    'file-history/s1/abc@v1': 'old file text\n',
    'settings.json': JSON.stringify(userSettings),
    'CLAUDE.md': '# my memory\n',
    'todos/s1-agent.json': '[]',
    'history.jsonl': '{"display":"hi"}\n',
  };
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(dirname(join(l.config.link, rel)), { recursive: true });
    await writeFile(join(l.config.link, rel), text);
  }
  await writeFile(join(l.config.link, '.credentials.json'), JSON.stringify({ claudeAiOauth: { refreshToken: 'rt-first' } }), { mode: 0o600 });
  // An earlier, interrupted init already shared a transcript of the same name.
  await mkdir(join(l.config.sharedDir, 'projects', '-work-app'), { recursive: true });
  await writeFile(join(l.config.sharedDir, 'projects', '-work-app', 'clash.jsonl'), 'the one already shared\n');
  await writeFile(join(l.home, '.claude.json'), JSON.stringify({ userID: 'u-1', oauthAccount: { accountUuid: 'uuid-1' }, tipsHistory: { x: 1 } }));
}

function init(l: TestLayout, options: { dryRun?: boolean } = {}) {
  const log: string[] = [];
  return runInit(l.config, { dryRun: options.dryRun === true, commands: installedCommands(l.config), log: (line) => log.push(line) }).then((r) => ({ ...r, log }));
}

/** Where a file of the real ~/.claude belongs after the migration. */
function newPlace(l: TestLayout, rel: string): string {
  const top = rel.split('/')[0] ?? '';
  const first = l.config.accounts[0]?.home ?? '';
  return (SHARED_NAMES as readonly string[]).includes(top) ? join(l.config.sharedDir, rel) : join(first, rel);
}

describe('init', () => {
  it('migrates a real ~/.claude losing no file: every checksum is found at its new place', async () => {
    await writeRealClaudeDir(layout);
    const before = await fileChecksums(dir);
    const migrated = await fileChecksums(layout.config.link);

    const result = await init(layout);

    const after = await fileChecksums(dir);
    const homeA = layout.config.accounts[0]?.home ?? '';
    for (const [rel, sum] of migrated) {
      const place = newPlace(layout, rel);
      if (rel === 'settings.json') continue; // merged on purpose: checked below
      // The newcomer of a clash sits beside the other with a suffix.
      const candidates = [...after].filter(([p]) => p === relative(dir, place) || p.startsWith(`${relative(dir, place)}.from-`));
      expect(candidates.map(([, s]) => s), rel).toContain(sum);
    }
    // Not one file lost anywhere in the tree (settings.json is merged, so it changes on purpose).
    const afterSums = [...after.values()];
    for (const [rel, sum] of before) {
      if (rel.endsWith('/settings.json')) continue;
      const i = afterSums.indexOf(sum);
      expect(i, `${rel} is gone`).toBeGreaterThanOrEqual(0);
      afterSums.splice(i, 1);
    }
    const settings = JSON.parse(await readFile(join(homeA, 'settings.json'), 'utf8')) as typeof userSettings;
    expect(settings.hooks.Stop.flatMap((g) => g.hooks.map((h) => h.command))).toContain('notify-send done');
    expect(settings.statusLine.command).toContain('--chain my-status');

    expect(await readlink(layout.config.link)).toBe(homeA);
    expect((await stat(join(homeA, '.credentials.json'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(layout.config.sharedDir, 'projects', '-work-app', 'clash.jsonl'), 'utf8')).toBe('the one already shared\n');
    // The clash is reported through the same log as every other step.
    expect(result.log.filter((l) => l.includes('name clash') && l.includes('clash.jsonl'))).toHaveLength(1);
    expect(result.steps).toEqual(result.log);
    // The outside .claude.json stays, its keys copied into the first account's.
    expect(JSON.parse(await readFile(join(layout.home, '.claude.json'), 'utf8'))).toMatchObject({ userID: 'u-1' });
    expect(JSON.parse(await readFile(join(homeA, '.claude.json'), 'utf8'))).toMatchObject({ userID: 'u-1', oauthAccount: { accountUuid: 'uuid-1' }, hasCompletedOnboarding: true });
    expect((await readdir(layout.home)).filter((n) => n.includes('cf-'))).toEqual([]);
    expect(result.loginNeeded.map((a) => a.name)).toEqual(['B']);
  });

  it('is idempotent: the second run reports no change and leaves the tree as it was', async () => {
    await writeRealClaudeDir(layout);
    await init(layout);
    const tree = await snapshotTree(dir);
    const again = await init(layout);
    expect(again.steps).toEqual([]);
    expect(again.log).toEqual([]);
    expect(await snapshotTree(dir)).toEqual(tree);
  });

  it('merges ~/.claude.json into the first account once: a key dropped there later is not copied back', async () => {
    await writeRealClaudeDir(layout);
    await init(layout);
    const inside = join(layout.config.accounts[0]?.home ?? '', '.claude.json');
    const { tipsHistory: _dropped, ...kept } = JSON.parse(await readFile(inside, 'utf8')) as Record<string, unknown>;
    await writeFile(inside, JSON.stringify(kept));
    expect((await init(layout)).steps).toEqual([]);
    expect(JSON.parse(await readFile(inside, 'utf8'))).toEqual(kept);
  });

  it('refuses to migrate a real ~/.claude while a live Claude Code session runs on it (CLAUDE_RUNNING), changing nothing; a dry run says so', async () => {
    await writeRealClaudeDir(layout);
    await mkdir(join(layout.config.link, 'sessions'), { recursive: true });
    await writeFile(join(layout.config.link, 'sessions', `${String(process.pid)}.json`), JSON.stringify({ pid: process.pid, sessionId: 's1', cwd: dir }));
    const tree = await snapshotTree(dir);
    const err = await init(layout).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'CLAUDE_RUNNING', message: expect.stringContaining(`pid ${String(process.pid)}`) as unknown });
    expect(await snapshotTree(dir)).toEqual(tree);
    expect((await init(layout, { dryRun: true })).log.join('\n')).toContain('Claude Code is running on');
  });

  it('refuses to merge the transcripts a linked projects/ points at while Claude Code runs on that home (CLAUDE_RUNNING), changing nothing', async () => {
    const b = layout.config.accounts[1]?.home ?? '';
    const elsewhere = join(dir, 'other-disk', 'projects');
    await mkdir(join(elsewhere, '-work-app'), { recursive: true });
    await writeFile(join(elsewhere, '-work-app', 's9.jsonl'), '{"type":"user","sessionId":"s9"}\n');
    await mkdir(join(b, 'sessions'), { recursive: true });
    await symlink(elsewhere, join(b, 'projects'));
    await writeFile(join(b, 'sessions', `${String(process.pid)}.json`), JSON.stringify({ pid: process.pid, sessionId: 's9', cwd: dir }));
    const tree = await snapshotTree(dir);
    const err = await init(layout).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'CLAUDE_RUNNING', message: expect.stringContaining(`pid ${String(process.pid)}`) as unknown });
    expect(await snapshotTree(dir)).toEqual(tree);
  });

  it('--dry-run prints every step and changes nothing, and counts the login the migration brings', async () => {
    await writeRealClaudeDir(layout);
    const tree = await snapshotTree(dir);
    const result = await init(layout, { dryRun: true });
    expect(await snapshotTree(dir)).toEqual(tree);
    expect(result.log.length).toBeGreaterThan(0);
    for (const line of result.log) expect(line).toMatch(/^would: /);
    const log = result.log.join('\n');
    expect(log).toContain(`migrate the real directory ${layout.config.link}`);
    expect(log).toContain(`create the home of B: ${layout.config.accounts[1]?.home ?? ''}`);
    expect(log).toContain(`point ${layout.config.link} at A`);
    expect(result.loginNeeded.map((a) => a.name)).toEqual(['B']);
  });

  it('the built CLI: --dry-run changes nothing, then init sets up and ends with the quoted login command', async () => {
    const tree = await snapshotTree(dir);
    const dry = await runCli(['--config', layout.configFile, 'init', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(await snapshotTree(dir)).toEqual(tree);
    expect(dry.stdout).toContain('would: create the shared dir');
    expect(dry.stdout).toContain('(dry run: nothing was changed)');

    const real = await runCli(['--config', layout.configFile, 'init']);
    expect(real.code).toBe(0);
    const [homeA, homeB] = layout.config.accounts.map((a) => a.home) as [string, string];
    const logins = real.stdout.slice(real.stdout.indexOf('left for you'));
    expect(logins).toContain(`CLAUDE_CONFIG_DIR=${homeA} ${layout.config.claude.command}`);
    expect(logins).toContain(`CLAUDE_CONFIG_DIR=${shellQuote(homeB)} ${layout.config.claude.command}`);
    expect(shellQuote(homeB)).toBe(`'${homeB}'`);
    expect((await lstat(layout.config.link)).isSymbolicLink()).toBe(true);

    const again = await runCli(['--config', layout.configFile, 'init']);
    expect(again.stdout).toContain('nothing to do');
  });
});
