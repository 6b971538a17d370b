import { execFileSync } from 'node:child_process';
import { appendFileSync, closeSync, constants, openSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { FileTail, type FileTailOptions } from './file-tail.js';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('cf-tail');
});
afterEach(async () => {
  await removeTempDir(dir);
});

function tailOf(file: string, fromStart: boolean, options: FileTailOptions = {}) {
  const tail = new FileTail(file, statSync(file), fromStart, options);
  const read = async () => {
    const lines: string[] = [];
    const { skippedLongLines } = await tail.readNewLines((line) => lines.push(line));
    return { lines, skippedLongLines };
  };
  return { tail, read };
}

describe('file tail', () => {
  it('starts at the end of a file that was there, at 0 for a new one', async () => {
    const file = join(dir, 'a.jsonl');
    writeFileSync(file, 'old 1\nold 2\n');
    expect((await tailOf(file, false).read()).lines).toEqual([]);
    expect((await tailOf(file, true).read()).lines).toEqual(['old 1', 'old 2']);
  });

  it('keeps a half-written line until its newline arrives', async () => {
    const file = join(dir, 'a.jsonl');
    writeFileSync(file, '');
    const { read } = tailOf(file, false);
    appendFileSync(file, 'one\ntw');
    expect((await read()).lines).toEqual(['one']);
    expect((await read()).lines).toEqual([]);
    appendFileSync(file, 'o\nthree');
    expect((await read()).lines).toEqual(['two']);
    appendFileSync(file, '\n');
    expect((await read()).lines).toEqual(['three']);
  });

  it('reads everything appended even when it spans many reads, and never cuts a UTF-8 character', async () => {
    const file = join(dir, 'a.jsonl');
    writeFileSync(file, '');
    const { read } = tailOf(file, false, { chunkBytes: 3 });
    const lines = ['⇄ résumé ∙ 5-hour limit', 'plain', '日本語のテキスト'];
    appendFileSync(file, lines.join('\n') + '\n');
    expect((await read()).lines).toEqual(lines);
  });

  it('skips a line longer than maxLineBytes and goes on with the next one', async () => {
    const file = join(dir, 'a.jsonl');
    writeFileSync(file, '');
    const { read } = tailOf(file, false, { chunkBytes: 4, maxLineBytes: 10 });
    appendFileSync(file, 'short\n' + 'x'.repeat(25));
    expect(await read()).toEqual({ lines: ['short'], skippedLongLines: 1 });
    appendFileSync(file, 'x'.repeat(7) + '\nafter\n');
    expect(await read()).toEqual({ lines: ['after'], skippedLongLines: 0 });
  });

  it('starts over when the file is truncated or replaced', async () => {
    const file = join(dir, 'a.jsonl');
    writeFileSync(file, 'aaaaaaaa\nbbbbbbbb\n');
    const { tail, read } = tailOf(file, false);
    writeFileSync(file, 'new\n');
    expect(tail.changedSince(statSync(file))).toBe(true);
    expect((await read()).lines).toEqual(['new']);
    expect(tail.changedSince(statSync(file))).toBe(false);
    writeFileSync(join(dir, 'next'), 'replaced 1\nreplaced 2\n');
    renameSync(join(dir, 'next'), file);
    expect(tail.changedSince(statSync(file))).toBe(true);
    expect((await read()).lines).toEqual(['replaced 1', 'replaced 2']);
  });

  it('throws ENOENT for a file that is gone', async () => {
    const file = join(dir, 'a.jsonl');
    writeFileSync(file, '');
    const { read } = tailOf(file, false);
    await removeTempDir(dir);
    await expect(read()).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reads nothing from a FIFO put in place of the file, and does not wait for a writer', async () => {
    const file = join(dir, 'a.jsonl');
    writeFileSync(file, 'old\n');
    const { read } = tailOf(file, false);
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    renameSync(join(dir, 'fifo'), file);
    let timer: NodeJS.Timeout | undefined;
    try {
      const outcome = await Promise.race([read(), new Promise((resolve) => (timer = setTimeout(() => { resolve('still waiting for a writer'); }, 2000)))]);
      expect(outcome).toEqual({ lines: [], skippedLongLines: 0 });
    } finally {
      clearTimeout(timer);
      // Releases a read blocked in open() (the bug this test is about), so the file can end.
      try {
        closeSync(openSync(file, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader waiting
      }
    }
  });
});
