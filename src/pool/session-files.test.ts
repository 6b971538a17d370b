import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { SessionFileReader } from './session-files.js';

let home: string;
beforeEach(async () => {
  home = await makeTempDir('cf-session-files');
  await mkdir(join(home, 'sessions'));
});
afterEach(async () => {
  await removeTempDir(home);
});

/** "busy" and "idle" have the same length: the rewrite keeps the file's size. */
const sessionFile = (status: 'busy' | 'idle') => JSON.stringify({ pid: 41, sessionId: 'abc', cwd: '/work', status, tmux: '/tmp/tmux-1000/default,1,0 %12' });
/** Writes in place (same inode, same size here) and sets the mtime, whole seconds so it is exact. */
const write = async (name: string, text: string, mtimeSeconds: number) => {
  const path = join(home, 'sessions', name);
  await writeFile(path, text);
  await utimes(path, mtimeSeconds, mtimeSeconds);
};
const statuses = async (reader: SessionFileReader) => (await reader.read(home)).map((s) => s.status);

describe('session files', () => {
  it('reads what Claude Code writes and skips what is not a session file', async () => {
    const old = Math.floor(Date.now() / 1000) - 3600;
    await write('41.json', sessionFile('busy'), old);
    await write('42.json', '{"pid": 42, "sessi', old);
    await write('43.json', 'null', old);
    await write('notes.txt', sessionFile('idle'), old);
    const reader = new SessionFileReader();
    for (let pass = 0; pass < 2; pass++) {
      expect(await reader.read(home)).toEqual([{ pid: 41, sessionId: 'abc', cwd: '/work', status: 'busy', paneId: '%12' }]);
    }
    expect(await new SessionFileReader().read(join(home, 'no-such-home'))).toEqual([]);
  });

  it('skips a FIFO named like a session file without waiting for a writer', async () => {
    const old = Math.floor(Date.now() / 1000) - 3600;
    await write('41.json', sessionFile('busy'), old);
    const fifo = join(home, 'sessions', '44.json');
    execFileSync('mkfifo', [fifo]);
    let timer: NodeJS.Timeout | undefined;
    try {
      const outcome = await Promise.race([new SessionFileReader().read(home), new Promise((resolve) => (timer = setTimeout(() => { resolve('still waiting for a writer'); }, 2000)))]);
      expect(outcome).toEqual([{ pid: 41, sessionId: 'abc', cwd: '/work', status: 'busy', paneId: '%12' }]);
    } finally {
      clearTimeout(timer);
      // Releases a read blocked in open() (the bug this test is about), so the file can end.
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader waiting
      }
    }
  });

  it('reads a file again only when its stat changed, and a recently changed one every time', async () => {
    const old = Math.floor(Date.now() / 1000) - 3600;
    await write('41.json', sessionFile('idle'), old);
    const reader = new SessionFileReader();
    expect(await statuses(reader)).toEqual(['idle']);

    // Same inode, size and mtime: the earlier read stands (the proof that it was not read again).
    await write('41.json', sessionFile('busy'), old);
    expect(await statuses(reader)).toEqual(['idle']);
    // Its mtime moved: read again.
    await write('41.json', sessionFile('busy'), old + 1);
    expect(await statuses(reader)).toEqual(['busy']);

    // Changed just now: a rewrite within the same timestamp tick would not show, so it is not trusted.
    const now = Math.floor(Date.now() / 1000);
    await write('41.json', sessionFile('idle'), now);
    expect(await statuses(reader)).toEqual(['idle']);
    await write('41.json', sessionFile('busy'), now);
    expect(await statuses(reader)).toEqual(['busy']);

    // Removed, then back with the same stat as an earlier version: read afresh.
    await rm(join(home, 'sessions', '41.json'));
    expect(await statuses(reader)).toEqual([]);
    await write('41.json', sessionFile('idle'), old + 1);
    expect(await statuses(reader)).toEqual(['idle']);
  });

  it('does not list a watched dir again until something there changes, and then sees the change', async () => {
    const old = Math.floor(Date.now() / 1000) - 3600;
    await write('41.json', sessionFile('idle'), old);
    const reader = new SessionFileReader();
    try {
      expect(await statuses(reader)).toEqual(['idle']);
      const scans = reader.scans;
      for (let i = 0; i < 5; i++) expect(await statuses(reader)).toEqual(['idle']);
      expect(reader.scans).toBe(scans);

      // Claude Code rewrites its file: the watch reports it, the next read scans.
      await write('41.json', sessionFile('busy'), old + 1);
      await waitFor(async () => (await statuses(reader)).join() === 'busy', { what: 'the rewrite seen' });
      // A new session's file, then one removed.
      await write('42.json', JSON.stringify({ pid: 42, sessionId: 'def', status: 'idle' }), old);
      await waitFor(async () => (await reader.read(home)).length === 2, { what: 'the new file seen' });
      await rm(join(home, 'sessions', '41.json'));
      await waitFor(async () => (await reader.read(home)).map((s) => s.sessionId).join() === 'def', { what: 'the removal seen' });
      // The removal may have been seen by a scan an earlier event asked for, its own event still on
      // its way (later on a busy machine): once a read needs no scan, every event has come.
      await waitFor(async () => {
        const before = reader.scans;
        await reader.read(home);
        return reader.scans === before;
      }, { what: 'the watch quiet again' });
      const settled = reader.scans;
      for (let i = 0; i < 5; i++) expect(await statuses(reader)).toEqual(['idle']);
      expect(reader.scans).toBe(settled);
    } finally {
      reader.close();
    }
  });

  it('watches a sessions dir that appears after the first read', async () => {
    const later = join(home, 'later-home');
    const reader = new SessionFileReader();
    try {
      expect(await reader.read(later)).toEqual([]);
      await mkdir(join(later, 'sessions'), { recursive: true });
      await writeFile(join(later, 'sessions', '7.json'), JSON.stringify({ pid: 7, sessionId: 'ghi', status: 'busy' }));
      await utimes(join(later, 'sessions', '7.json'), 1_000_000, 1_000_000);
      expect((await reader.read(later)).map((s) => s.sessionId)).toEqual(['ghi']);
      const scans = reader.scans;
      expect((await reader.read(later)).map((s) => s.sessionId)).toEqual(['ghi']);
      expect(reader.scans).toBe(scans);
    } finally {
      reader.close();
    }
  });
});
