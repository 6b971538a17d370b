import { mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { FailoverError } from '../errors.js';
import { ensureStateDir, stateDirProblem } from './state-dir.js';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('cf-state-dir');
});
afterEach(async () => {
  await removeTempDir(dir);
});

describe('ensureStateDir', () => {
  it('makes a missing state dir 0700', () => {
    const stateDir = join(dir, 'state');
    ensureStateDir(stateDir);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    expect(stateDirProblem(stateDir)).toBeNull();
  });

  it('refuses a state dir that is a symbolic link, writes nothing where it points, and says why', () => {
    const planted = join(dir, 'planted');
    mkdirSync(planted);
    const stateDir = join(dir, 'state');
    symlinkSync(planted, stateDir);
    const err = (() => {
      try {
        ensureStateDir(stateDir);
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(FailoverError);
    expect((err as FailoverError).code).toBe('STATE_DIR_IS_LINK');
    expect((err as FailoverError).message).toContain(`is a symbolic link (to ${planted})`);
    expect(stateDirProblem(stateDir)).toContain('symbolic link');
    expect(readdirSync(planted)).toEqual([]);
  });
});
