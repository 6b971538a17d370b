import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { readJsonObject, writeJsonAtomic } from './json-file.js';

describe('writeJsonAtomic', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('cf-json');
  });
  afterEach(async () => {
    vi.useRealTimers();
    await removeTempDir(dir);
  });

  it('lets two writes of one file in the same millisecond both land (a swap preparing an account while the start-up rewrites its hooks)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-12-01T12:00:00Z'));
    const path = join(dir, 'settings.json');
    const writes = Array.from({ length: 8 }, (_, i) => writeJsonAtomic(path, { writer: i }));
    const results = await Promise.allSettled(writes);
    expect(results.map((r) => r.status)).toEqual(Array(8).fill('fulfilled'));
    const final = JSON.parse(await readFile(path, 'utf8')) as { writer: number };
    expect(final.writer).toBeGreaterThanOrEqual(0);
  });
});

describe('readJsonObject', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir('cf-json');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('refuses a FIFO in place of the file at once, saying so, instead of waiting for a writer forever', async () => {
    const fifo = join(dir, 'settings.json');
    execFileSync('mkfifo', [fifo]);
    let timer: NodeJS.Timeout | undefined;
    try {
      const outcome = await Promise.race([
        readJsonObject(fifo).then(() => 'read', (err: unknown) => (err instanceof Error ? err.message : String(err))),
        new Promise((resolve) => (timer = setTimeout(() => { resolve('still waiting for a writer'); }, 2000))),
      ]);
      expect(outcome).toMatch(/not a regular file/);
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
});
