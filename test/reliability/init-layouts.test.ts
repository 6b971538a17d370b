import { mkdtempSync, rmSync } from 'node:fs';
import { lstat, mkdir, readFile, readdir, readlink, realpath, writeFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runInit, CLAUDE_JSON_MERGED_MARK } from '../../src/accounts/init.js';
import { installedCommands } from '../../src/claude/self-command.js';
import { fakeClaudePath } from '../../src/demo/sandbox.js';
import { makeLayout, fileChecksums, snapshotTree, type TestLayout } from '../helpers/account-layout.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';
import { killPrivateServer, privateSocketName } from '../helpers/private-tmux.js';
import { tmux } from '../helpers/e2e.js';
import { runCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait-for.js';
import { recordFigure } from './figures.js';

const TEST = 'test/reliability/init-layouts.test.ts';

let dir: string;
let otherDisk: string;
let layout: TestLayout;
beforeEach(async () => {
  dir = await makeTempDir('cf-init-layouts');
  // /dev/shm is a tmpfs: another filesystem than the temp dir, as another disk would be.
  otherDisk = mkdtempSync('/dev/shm/cf-other-disk-');
  layout = await makeLayout(dir);
});
afterEach(async () => {
  rmSync(otherDisk, { recursive: true, force: true });
  await removeTempDir(dir);
});

function init(l: TestLayout, options: { dryRun?: boolean } = {}) {
  const log: string[] = [];
  return runInit(l.config, { dryRun: options.dryRun === true, commands: installedCommands(l.config), log: (line) => log.push(line) }).then((r) => ({ ...r, log }));
}

/** Transcripts on the other disk, as a person who moved ~/.claude/projects there has them. */
async function transcriptsOnOtherDisk(): Promise<Map<string, string>> {
  const projects = join(otherDisk, 'claude-projects');
  for (const [rel, text] of Object.entries({ '-work-app/s1.jsonl': '{"type":"user","sessionId":"s1"}\n', '-work-app/s1/subagents/a.jsonl': '{"type":"assistant"}\n', '-other/s2.jsonl': '{"type":"user","sessionId":"s2"}\n' })) {
    await mkdir(join(projects, rel, '..'), { recursive: true });
    await writeFile(join(projects, rel), text);
  }
  return fileChecksums(projects);
}

/** A real ~/.claude whose projects/ is a link to the other disk. */
async function realClaudeDirWithLinkedProjects(l: TestLayout): Promise<void> {
  await mkdir(l.config.link, { recursive: true });
  await writeFile(join(l.config.link, '.credentials.json'), '{"claudeAiOauth":{"refreshToken":"rt"}}', { mode: 0o600 });
  await writeFile(join(l.config.link, 'settings.json'), '{"model":"opus"}');
  await symlink(join(otherDisk, 'claude-projects'), join(l.config.link, 'projects'));
}

/** Every transcript reachable through `projects` (links followed), by relative path. */
async function visibleThrough(projects: string): Promise<Map<string, string>> {
  return fileChecksums(await realpath(projects));
}

describe('init on the layouts people really have (probe 8)', () => {
  it('a ~/.claude/projects linked to another disk: the shared dir takes the link, every transcript stays visible from every account and from ~/.claude', async () => {
    const before = await transcriptsOnOtherDisk();
    await realClaudeDirWithLinkedProjects(layout);
    const { log } = await init(layout);
    const places = [layout.config.link, ...layout.config.accounts.map((a) => a.home)].map((h) => join(h, 'projects'));
    const seen = await Promise.all(places.map(visibleThrough));
    const visible = seen.filter((s) => JSON.stringify([...s]) === JSON.stringify([...before])).length;
    recordFigure({ probe: 'init: ~/.claude/projects linked to another disk (shared dir empty: linked)', test: TEST, runs: places.length, passes: visible, measured: { transcripts: before.size, placesChecked: places.length } });
    expect(await readlink(join(layout.config.sharedDir, 'projects'))).toBe(await realpath(join(otherDisk, 'claude-projects')));
    for (const s of seen) expect(s).toEqual(before);
    expect(log.join('\n')).toContain('stay visible');
    // A second init changes nothing.
    const tree = await snapshotTree(dir);
    expect((await init(layout)).steps).toEqual([]);
    expect(await snapshotTree(dir)).toEqual(tree);
  });

  it('a ~/.claude/projects linked to another disk while the shared dir already has transcripts: merged, none lost, all visible', async () => {
    const before = await transcriptsOnOtherDisk();
    await mkdir(join(layout.config.sharedDir, 'projects', '-already'), { recursive: true });
    await writeFile(join(layout.config.sharedDir, 'projects', '-already', 's0.jsonl'), 'shared before\n');
    await realClaudeDirWithLinkedProjects(layout);
    await init(layout);
    const seen = await visibleThrough(join(layout.config.accounts[1]?.home ?? '', 'projects'));
    const expected = new Map([...before, ['-already/s0.jsonl', (await fileChecksums(join(layout.config.sharedDir, 'projects'))).get('-already/s0.jsonl') ?? '']]);
    recordFigure({ probe: 'init: ~/.claude/projects linked to another disk (shared dir has transcripts: merged)', test: TEST, runs: expected.size, passes: [...expected].filter(([k, v]) => seen.get(k) === v).length });
    expect(seen).toEqual(expected);
    expect((await lstat(join(layout.config.sharedDir, 'projects'))).isDirectory()).toBe(true);
  });

  it('an account home whose projects/ links elsewhere: its transcripts merge into the shared dir instead of being hidden behind a new link', async () => {
    const before = await transcriptsOnOtherDisk();
    const homeB = layout.config.accounts[1]?.home ?? '';
    await mkdir(homeB, { recursive: true });
    await symlink(join(otherDisk, 'claude-projects'), join(homeB, 'projects'));
    await init(layout);
    const seen = await visibleThrough(join(homeB, 'projects'));
    recordFigure({ probe: 'init: an account home\'s projects/ linked elsewhere (merged)', test: TEST, runs: before.size, passes: [...before].filter(([k, v]) => seen.get(k) === v).length });
    expect(await readlink(join(homeB, 'projects'))).toBe(join(layout.config.sharedDir, 'projects'));
    expect(seen).toEqual(before);
  });

  it('~/.claude.json is merged once: a later init copies nothing again, neither a key dropped inside nor one added outside', async () => {
    const outside = join(layout.home, '.claude.json');
    const inside = join(layout.config.accounts[0]?.home ?? '', '.claude.json');
    await writeFile(outside, JSON.stringify({ userID: 'u-1', tipsHistory: { a: 1 }, projects: { '/w': { allowedTools: [] } } }));
    await init(layout);
    const first = JSON.parse(await readFile(inside, 'utf8')) as Record<string, unknown>;
    expect(first).toMatchObject({ userID: 'u-1', tipsHistory: { a: 1 } });
    // Claude Code drops a key; an unmanaged session adds one outside.
    const { tipsHistory: _dropped, ...kept } = first;
    await writeFile(inside, JSON.stringify(kept));
    await writeFile(outside, JSON.stringify({ userID: 'u-1', tipsHistory: { a: 1 }, newOutside: true }));
    const runs = 3;
    for (let i = 0; i < runs; i++) await init(layout);
    const after = JSON.parse(await readFile(inside, 'utf8')) as Record<string, unknown>;
    const copiedAgain = ['tipsHistory', 'newOutside'].filter((k) => k in after);
    recordFigure({ probe: 'init: ~/.claude.json merged once', test: TEST, runs: runs + 1, passes: copiedAgain.length === 0 ? runs + 1 : 1, measured: { keysCopiedAgain: copiedAgain.length } });
    expect(after).toEqual(kept);
    expect(await readdir(layout.config.accounts[0]?.home ?? '')).toContain(CLAUDE_JSON_MERGED_MARK);
  });

  it('refuses to migrate a ~/.claude while Claude Code runs on it, says so and moves nothing; runs once it has quit; an init with nothing to move runs beside a session', async () => {
    const socket = privateSocketName('cf-init-run');
    const project = join(dir, 'projects', 'web');
    await mkdir(project, { recursive: true });
    await mkdir(layout.config.link, { recursive: true });
    await writeFile(join(layout.config.link, '.credentials.json'), '{"claudeAiOauth":{"refreshToken":"rt"}}', { mode: 0o600 });
    await writeFile(join(layout.home, '.claude.json'), JSON.stringify({ hasCompletedOnboarding: true, projects: { [await realpath(project)]: { hasTrustDialogAccepted: true } } }));
    // Claude Code as a person runs it: no CLAUDE_CONFIG_DIR, so on ~/.claude.
    const startClaude = (name: string) => {
      tmux(socket, 'new-session', '-d', '-s', name, '-c', project, 'env', '-u', 'CLAUDE_CONFIG_DIR', `HOME=${layout.home}`, fakeClaudePath());
    };
    const running = async () => (await readdir(join(layout.config.link, 'sessions')).catch(() => [])).length > 0;
    try {
      startClaude('user');
      await waitFor(running, { timeoutMs: 20_000, what: 'Claude Code running on ~/.claude' });
      const tree = await snapshotTree(dir);
      const refused = await runCli(['--config', layout.configFile, 'init'], { timeoutMs: 60_000 });
      const dry = await runCli(['--config', layout.configFile, 'init', '--dry-run'], { timeoutMs: 60_000 });
      const untouched = JSON.stringify([...(await snapshotTree(dir))]) === JSON.stringify([...tree]);
      // It quits; init runs.
      tmux(socket, 'kill-session', '-t', '=user');
      await waitFor(async () => !(await running()), { timeoutMs: 20_000, what: 'Claude Code gone' });
      const done = await runCli(['--config', layout.configFile, 'init'], { timeoutMs: 60_000 });
      // Now ~/.claude is a link and nothing needs moving: a session may run while init runs again.
      startClaude('user2');
      await waitFor(running, { timeoutMs: 20_000, what: 'Claude Code running on the link' });
      const beside = await runCli(['--config', layout.configFile, 'init'], { timeoutMs: 60_000 });
      const alive = tmux(socket, 'list-panes', '-t', '=user2', '-F', '#{pane_dead}').trim() === '0';
      const checks = { refused: refused.code === 1 && /Claude Code is running on .*pid \d+/.test(refused.stderr), dryRunSaysSo: dry.code === 0 && dry.stdout.includes('Claude Code is running'), untouched, ranAfterQuit: done.code === 0 && (await lstat(layout.config.link)).isSymbolicLink(), ranBesideSession: beside.code === 0 && alive };
      recordFigure({ probe: 'init refuses to migrate while Claude Code runs, and says so', test: TEST, runs: Object.keys(checks).length, passes: Object.values(checks).filter(Boolean).length, measured: checks });
      expect(refused.stderr).toMatch(/Claude Code is running on .*pid \d+.*quit those sessions/);
      expect(checks).toEqual({ refused: true, dryRunSaysSo: true, untouched: true, ranAfterQuit: true, ranBesideSession: true });
    } finally {
      await killPrivateServer(socket);
    }
  }, 180_000);
});
