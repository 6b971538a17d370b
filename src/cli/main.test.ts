import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { runCli } from '../../test/helpers/cli.js';

// Faults of the machine (here a state dir inside a symlink loop) as the built CLI reports them.
let dir: string;
let configFile: string;
let stateDir: string;
beforeEach(async () => {
  dir = await makeTempDir('cf-cli-faults');
  const home = join(dir, 'home');
  mkdirSync(home);
  symlinkSync(join(dir, 'loop-b'), join(dir, 'loop-a'));
  symlinkSync(join(dir, 'loop-a'), join(dir, 'loop-b'));
  stateDir = join(dir, 'loop-a', 'state');
  configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, JSON.stringify({ home, stateDir, accounts: [{ name: 'A', home: join(home, '.claude-A') }, { name: 'B', home: join(home, '.claude-B') }], pool: { autonomous: { max: 0 } } }));
});
afterEach(async () => {
  await removeTempDir(dir);
});

describe('a fault in any command', () => {
  it.each([['status'], ['status', '--json'], ['resolve'], ['switch', 'B'], ['run']])('%s: one line naming the path, exit 1, no stack trace', async (...args) => {
    const result = await runCli(['--config', configFile, ...args], { env: { HOME: join(dir, 'home') } });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^claude-failover ${args[0]}: `));
    expect(lines[0]).toContain(stateDir);
    expect(lines[0]).toContain('loop of symbolic links (ELOOP)');
  });
});
