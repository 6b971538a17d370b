import { lstat, mkdir, readFile, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { makeLayout, snapshotTree, type TestLayout } from '../../test/helpers/account-layout.js';
import { setImmutable } from '../../test/helpers/e2e.js';
import { configFromObject } from '../config/load.js';
import { SharedLinkError } from './shared-link-error.js';
import { ensureSharedLinks, requiredShared } from './shared-links.js';

let dir: string;
let layout: TestLayout;
let home: string;
let shared: string;
const immutable: string[] = [];
beforeEach(async () => {
  dir = await makeTempDir('cf-shared');
  layout = await makeLayout(dir);
  home = layout.config.accounts[0]?.home ?? '';
  shared = layout.config.sharedDir;
  await mkdir(home, { recursive: true });
});
afterEach(async () => {
  for (const path of immutable.splice(0)) setImmutable(path, false);
  await removeTempDir(dir);
});

async function errorOf(promise: Promise<unknown>): Promise<SharedLinkError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(SharedLinkError);
  return err as SharedLinkError;
}

describe('requiredShared', () => {
  it('is projects, session-env and file-history, absolute, with the one sharedDir as common parent', () => {
    const required = requiredShared(layout.config);
    expect(required.map((l) => l.name)).toEqual(['projects', 'session-env', 'file-history']);
    for (const link of required) {
      expect(isAbsolute(link.target)).toBe(true);
      expect(dirname(link.target)).toBe(layout.config.sharedDir);
      expect(link.target).toBe(join(layout.config.sharedDir, link.name));
    }
  });

  it('gives absolute targets for a sharedDir written relative in the config', () => {
    const result = configFromObject({ sharedDir: 'shared', stateDir: 'state', accounts: [{ name: 'A', home: 'a' }] }, { baseDir: dir, env: { HOME: dir } });
    if (!result.ok) throw new Error(result.report);
    expect(requiredShared(result.config).map((l) => l.target)).toEqual(['projects', 'session-env', 'file-history'].map((n) => join(dir, 'shared', n)));
  });
});

describe('ensureSharedLinks', () => {
  it('creates a missing link', async () => {
    const report = await ensureSharedLinks(layout.config, home);
    expect(report.actions.map((a) => a.action)).toEqual(['created', 'created', 'created']);
    for (const { name, target } of requiredShared(layout.config)) {
      expect(await readlink(join(home, name))).toBe(target);
      expect((await lstat(target)).isDirectory()).toBe(true);
    }
  });

  it('leaves a right link untouched and reports it ok', async () => {
    await ensureSharedLinks(layout.config, home);
    const inodes = await Promise.all(['projects', 'session-env', 'file-history'].map(async (n) => (await lstat(join(home, n))).ino));
    const before = await snapshotTree(dir);
    const report = await ensureSharedLinks(layout.config, home);
    expect(report).toEqual({ actions: [{ name: 'projects', action: 'ok' }, { name: 'session-env', action: 'ok' }, { name: 'file-history', action: 'ok' }], conflicts: [] });
    expect(await Promise.all(['projects', 'session-env', 'file-history'].map(async (n) => (await lstat(join(home, n))).ino))).toEqual(inodes);
    expect(await snapshotTree(dir)).toEqual(before);
  });

  it('replaces a link elsewhere and a dangling link, leaving what the old link pointed at alone', async () => {
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(elsewhere);
    await writeFile(join(elsewhere, 'keep.jsonl'), 'x');
    await symlink(elsewhere, join(home, 'projects'));
    await symlink(join(dir, 'gone'), join(home, 'session-env'));
    const report = await ensureSharedLinks(layout.config, home);
    expect(report.actions.map((a) => a.action)).toEqual(['replaced', 'replaced', 'created']);
    expect(await readlink(join(home, 'projects'))).toBe(join(shared, 'projects'));
    expect(await readlink(join(home, 'session-env'))).toBe(join(shared, 'session-env'));
    expect(await readFile(join(elsewhere, 'keep.jsonl'), 'utf8')).toBe('x');
  });

  it('refuses a shared dir that is a symbolic link (SHARED_DIR_IS_LINK), creating nothing where it points', async () => {
    const planted = join(dir, 'planted');
    await mkdir(planted);
    await mkdir(dirname(shared), { recursive: true });
    await symlink(planted, shared);
    const err = await errorOf(ensureSharedLinks(layout.config, home));
    expect(err.fault).toBe('SHARED_DIR_IS_LINK');
    expect(err.message).toContain('symbolic link');
    expect(await readdir(planted)).toEqual([]);
    expect(await readdir(home)).toEqual([]);
  });

  it('with mergeLinked (init), moves the files of a link elsewhere into the shared target before replacing the link', async () => {
    const elsewhere = join(dir, 'elsewhere');
    await mkdir(join(elsewhere, '-work-app'), { recursive: true });
    await writeFile(join(elsewhere, '-work-app', 's1.jsonl'), 'x');
    await symlink(elsewhere, join(home, 'projects'));
    const report = await ensureSharedLinks(layout.config, home, { mergeLinked: true });
    expect(report.actions[0]).toMatchObject({ name: 'projects', action: 'merged' });
    expect(await readlink(join(home, 'projects'))).toBe(join(shared, 'projects'));
    expect(await readFile(join(shared, 'projects', '-work-app', 's1.jsonl'), 'utf8')).toBe('x');
  });

  it('merges a real directory into the shared target: no file deleted, a name clash keeps both and is reported', async () => {
    await mkdir(join(home, 'projects', '-work-app', 's1'), { recursive: true });
    await writeFile(join(home, 'projects', '-work-app', 'only-here.jsonl'), 'mine');
    await writeFile(join(home, 'projects', '-work-app', 's1', 'agent.jsonl'), 'agent');
    await writeFile(join(home, 'projects', '-work-app', 'clash.jsonl'), 'newcomer');
    await mkdir(join(shared, 'projects', '-work-app'), { recursive: true });
    await writeFile(join(shared, 'projects', '-work-app', 'clash.jsonl'), 'already shared');

    const report = await ensureSharedLinks(layout.config, home);

    expect(report.actions[0]).toMatchObject({ name: 'projects', action: 'merged' });
    expect(await readlink(join(home, 'projects'))).toBe(join(shared, 'projects'));
    const app = join(shared, 'projects', '-work-app');
    expect(await readFile(join(app, 'only-here.jsonl'), 'utf8')).toBe('mine');
    expect(await readFile(join(app, 's1', 'agent.jsonl'), 'utf8')).toBe('agent');
    expect(await readFile(join(app, 'clash.jsonl'), 'utf8')).toBe('already shared');
    const newcomer = (await readdir(app)).filter((n) => n.startsWith('clash.jsonl.'));
    expect(newcomer).toHaveLength(1);
    expect(await readFile(join(app, newcomer[0] ?? ''), 'utf8')).toBe('newcomer');
    expect(report.conflicts).toHaveLength(1);
    expect(report.conflicts[0]).toContain(join(app, 'clash.jsonl'));
    expect(report.conflicts[0]).toContain(newcomer[0]);
    // The emptied directory went; nothing else was left aside in the home.
    expect((await readdir(home)).sort()).toEqual(['file-history', 'projects', 'session-env']);
  });

  it('a dry run reports what it would do and changes nothing', async () => {
    await mkdir(join(home, 'projects', '-p'), { recursive: true });
    await writeFile(join(home, 'projects', '-p', 's.jsonl'), 'x');
    await symlink(join(dir, 'gone'), join(home, 'session-env'));
    const before = await snapshotTree(dir);
    const report = await ensureSharedLinks(layout.config, home, { dryRun: true });
    expect(report.actions.map((a) => a.action)).toEqual(['merged', 'replaced', 'created']);
    expect(await snapshotTree(dir)).toEqual(before);
  });

  describe('faults are typed errors naming the path', () => {
    it('a file where the link should be', async () => {
      await writeFile(join(home, 'projects'), 'not a dir');
      const err = await errorOf(ensureSharedLinks(layout.config, home));
      expect(err.code).toBe('SHARED_LINK_NOT_A_DIRECTORY');
      expect(err.path).toBe(join(home, 'projects'));
      expect(err.message).toContain(join(home, 'projects'));
      expect(await readFile(join(home, 'projects'), 'utf8')).toBe('not a dir');
    });

    it('a file where a shared target directory should be', async () => {
      await mkdir(shared, { recursive: true });
      await writeFile(join(shared, 'projects'), 'not a dir');
      const err = await errorOf(ensureSharedLinks(layout.config, home));
      expect(err.code).toBe('SHARED_LINK_NOT_A_DIRECTORY');
      expect(err.message).toContain(join(shared, 'projects'));
      expect(await readFile(join(shared, 'projects'), 'utf8')).toBe('not a dir');
    });

    it('an account home nothing can be written to (immutable, even for root)', async () => {
      setImmutable(home, true);
      immutable.push(home);
      const err = await errorOf(ensureSharedLinks(layout.config, home));
      expect(err.code).toBe('SHARED_LINK_EACCES');
      expect(err.fault).toBe('EACCES');
      expect(err.message).toContain(join(home, 'projects'));
      expect((err.cause as NodeJS.ErrnoException).code).toBe('EPERM');
    });

    it('a symlink loop', async () => {
      const loop = join(dir, 'home', '.claude-loop');
      await symlink(loop, loop);
      const err = await errorOf(ensureSharedLinks(layout.config, loop));
      expect(err.code).toBe('SHARED_LINK_ELOOP');
      expect(err.message).toContain(join(loop, 'projects'));
      expect((err.cause as NodeJS.ErrnoException).code).toBe('ELOOP');
    });
  });
});
