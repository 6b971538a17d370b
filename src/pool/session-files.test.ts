import { mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
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
});
