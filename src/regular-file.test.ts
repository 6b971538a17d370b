import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../test/helpers/temp-dir.js';
import { readRegularFile } from './regular-file.js';

describe('readRegularFile (real filesystem)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('cf-regular');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('reads a regular file, and says null at once for a FIFO (no writer: a plain open would wait forever) or a directory', async () => {
    writeFileSync(join(dir, 'a.json'), '{"x":1}');
    execFileSync('mkfifo', [join(dir, 'fifo.json')]);
    mkdirSync(join(dir, 'dir.json'));
    expect(await readRegularFile(join(dir, 'a.json'))).toBe('{"x":1}');
    expect(await readRegularFile(join(dir, 'fifo.json'))).toBeNull();
    expect(await readRegularFile(join(dir, 'dir.json'))).toBeNull();
    await expect(readRegularFile(join(dir, 'missing.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
