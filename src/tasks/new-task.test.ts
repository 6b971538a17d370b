import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { checkNewTask, MAX_PROMPT_LENGTH, parseDuration, type TaskRules } from './new-task.js';

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['1h30m', 5_400_000],
    ['1d', 86_400_000],
    ['1500ms', 1500],
    ['1m30s', 90_000],
    [' 5m ', 300_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', '10 m', 'm', '1.5h', '30m1h', '-5m', '5x', '1h1h', '10M'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});

describe('checkNewTask', () => {
  let dir: string;
  const cli = (): TaskRules => ({ dedicated: ['web', 'api'], baseDir: dir, naming: 'cli' });
  const json: TaskRules = { dedicated: ['web'], naming: 'json' };
  beforeEach(async () => {
    dir = await makeTempDir('cf-new-task');
    await mkdir(join(dir, 'project'));
    await writeFile(join(dir, 'a-file'), 'x');
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('makes a NewTask of every field, a relative cwd made absolute, retries counted after the first attempt', () => {
    const checked = checkNewTask({ prompt: 'Fix the build', cwd: 'project', session: 'api', priority: '-3', timeout: '1h30m', retries: '2', mode: 'continue' }, cli());
    expect(checked).toEqual({ ok: true, task: { prompt: 'Fix the build', cwd: join(dir, 'project'), target: 'api', mode: 'continue', priority: -3, timeoutMs: 5_400_000, maxAttempts: 3 } });
  });

  it('leaves what was not given to the queue: no cwd, any autonomous session, fresh, no timeout', () => {
    expect(checkNewTask({ prompt: 'p' }, json)).toEqual({ ok: true, task: { prompt: 'p', cwd: null, target: null, mode: 'fresh', timeoutMs: null } });
  });

  it('takes JSON numbers: a timeout in milliseconds, an integer priority and retries', () => {
    expect(checkNewTask({ prompt: 'p', timeout: 90_000, priority: 5, retries: 0 }, json)).toMatchObject({ ok: true, task: { timeoutMs: 90_000, priority: 5, maxAttempts: 1 } });
  });

  it.each([
    [{ prompt: '' }, 'the prompt is empty'],
    [{ prompt: '  \n ' }, 'the prompt is empty'],
    [{}, 'the prompt is missing'],
    [{ prompt: 'x'.repeat(MAX_PROMPT_LENGTH + 1) }, `at most ${MAX_PROMPT_LENGTH}`],
    [{ prompt: 'a\0b' }, 'NUL'],
    [{ prompt: 'p', cwd: 'nowhere' }, 'does not exist'],
    [{ prompt: 'p', cwd: 'a-file' }, 'is not a directory'],
    [{ prompt: 'p', session: 'db' }, '--session "db" is not a dedicated session: the config\'s dedicated sessions are web, api'],
    [{ prompt: 'p', priority: 'high' }, '--priority must be an integer, not "high"'],
    [{ prompt: 'p', priority: '1.5' }, '--priority must be an integer'],
    [{ prompt: 'p', timeout: '30' }, '--timeout must be a duration like 30s, 10m, 2h or 1h30m, not "30"'],
    [{ prompt: 'p', timeout: '0s' }, '--timeout must be more than zero'],
    [{ prompt: 'p', timeout: '8d' }, 'at most a week'],
    [{ prompt: 'p', retries: '-1' }, '--retries must be an integer from 0 to 100'],
    [{ prompt: 'p', retries: 'many' }, '--retries must be an integer'],
  ])('refuses %j, naming the CLI option: %s', (fields, says) => {
    const checked = checkNewTask(fields, cli());
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.error).toContain(says);
  });

  it.each([
    [{ prompt: 5 }, 'prompt must be a string'],
    [{ prompt: 'p', cwd: 'project' }, 'cwd must be an absolute path, not "project"'],
    [{ prompt: 'p', cwd: 7 }, "cwd must be a directory's path"],
    [{ prompt: 'p', session: 3 }, 'session must be a session\'s name'],
    [{ prompt: 'p', timeout: 1.5 }, 'timeout must be milliseconds or a duration'],
    [{ prompt: 'p', timeout: true }, 'timeout must be milliseconds or a duration'],
    [{ prompt: 'p', priority: 2.5 }, 'priority must be an integer, not 2.5'],
    [{ prompt: 'p', mode: 'again' }, 'mode must be "fresh" or "continue", not "again"'],
  ])('refuses %j, naming the JSON field: %s', (fields, says) => {
    const checked = checkNewTask(fields, json);
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.error).toContain(says);
  });

  it('names every problem at once, and says when the config has no dedicated sessions', () => {
    const checked = checkNewTask({ prompt: '', session: 'web', priority: 'x' }, { dedicated: [], naming: 'json' });
    expect(checked).toEqual({ ok: false, error: 'prompt is empty; session "web" is not a dedicated session: the config has no dedicated sessions (pool.dedicated); priority must be an integer, not "x"' });
  });
});
