import { spawn } from 'node:child_process';
import { mkdir, readFile, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { makeLayout, type TestLayout } from '../../test/helpers/account-layout.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { FailoverError } from '../errors.js';
import { flipLink, readLink } from './link.js';

let dir: string;
let layout: TestLayout;
let homeA: string;
let homeB: string;
beforeEach(async () => {
  dir = await makeTempDir('cf-link');
  layout = await makeLayout(dir);
  [homeA, homeB] = layout.config.accounts.map((a) => a.home) as [string, string];
  await mkdir(homeA);
  await mkdir(homeB);
});
afterEach(async () => {
  await removeTempDir(dir);
});

describe('readLink', () => {
  it('names the account the link points to', async () => {
    await symlink(homeB, layout.config.link);
    expect(await readLink(layout.config)).toMatchObject({ kind: 'account', account: { name: 'B' }, target: homeB });
  });

  it('says "not a link" for a real directory', async () => {
    await mkdir(layout.config.link);
    expect(await readLink(layout.config)).toEqual({ kind: 'not-a-link' });
  });

  it('says "outside" for a link to anything but a configured home', async () => {
    await symlink(join(dir, 'elsewhere'), layout.config.link);
    expect(await readLink(layout.config)).toEqual({ kind: 'outside', target: join(dir, 'elsewhere') });
  });

  it('says "missing" when there is nothing', async () => {
    expect(await readLink(layout.config)).toEqual({ kind: 'missing' });
  });
});

describe('flipLink', () => {
  it('refuses to flip onto a real directory, says to run init, and leaves it as it was', async () => {
    await mkdir(layout.config.link);
    await writeFile(join(layout.config.link, '.credentials.json'), 'secret');
    const err = await flipLink(layout.config, homeB).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(FailoverError);
    expect((err as FailoverError).code).toBe('LINK_IS_DIRECTORY');
    expect((err as FailoverError).message).toContain('claude-failover init');
    expect(await readFile(join(layout.config.link, '.credentials.json'), 'utf8')).toBe('secret');
  });

  it('refuses a target that is not a directory', async () => {
    await symlink(homeA, layout.config.link);
    const err = await flipLink(layout.config, join(dir, 'no-such-home')).then(() => null, (e: unknown) => e);
    expect((err as FailoverError).code).toBe('LINK_TARGET_MISSING');
    expect(await readlink(layout.config.link)).toBe(homeA);
  });

  it('is atomic: a reader looping on the link through 2000 flips never finds it missing', async () => {
    await symlink(homeA, layout.config.link);
    const stop = join(dir, 'stop');
    // Another process, so the reader really runs at the same time as the flips.
    const reader = `
      const fs = require('node:fs');
      const [link, stop] = process.argv.slice(1);
      let reads = 0, missing = 0;
      const seen = new Set(), errors = new Set();
      process.stdout.write('ready\\n');
      while (!fs.existsSync(stop)) {
        for (let i = 0; i < 200; i++) {
          try { seen.add(fs.readlinkSync(link)); fs.statSync(link); reads++; }
          catch (e) { missing++; errors.add(e.code); }
        }
      }
      process.stdout.write(JSON.stringify({ reads, missing, seen: [...seen], errors: [...errors] }) + '\\n');
    `;
    const child = spawn(process.execPath, ['-e', reader, layout.config.link, stop], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const exited = new Promise<void>((resolve) => child.on('exit', () => { resolve(); }));
    try {
      await waitFor(() => out.startsWith('ready'), { what: 'the reader to start' });
      for (let i = 0; i < 2000; i++) await flipLink(layout.config, i % 2 === 0 ? homeB : homeA);
    } finally {
      await writeFile(stop, '');
    }
    await exited;
    const result = JSON.parse(out.split('\n')[1] ?? '') as { reads: number; missing: number; seen: string[]; errors: string[] };
    expect(result.errors).toEqual([]);
    expect(result.missing).toBe(0);
    // The reader saw the flips happen, so it was reading while they ran.
    expect(result.seen.sort()).toEqual([homeA, homeB].sort());
    expect(await readlink(layout.config.link)).toBe(homeA);
    // No temporary link left behind.
    expect((await readdir(layout.home)).filter((n) => n.includes('cf-flip'))).toEqual([]);
  });
});
