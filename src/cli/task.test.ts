import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { makeLayout, type TestLayout } from '../../test/helpers/account-layout.js';
import { runCli, type CliRun, type CliRunOptions } from '../../test/helpers/cli.js';
import { openStore } from '../store/sqlite-store.js';
import type { Task, TaskJson } from '../store/task-queue.js';

// `task` as an operator runs it: the built CLI against a real state dir, its queue read back
// through the store the daemon uses.
let dir: string;
let layout: TestLayout;
beforeEach(async () => {
  dir = await makeTempDir('cf-task');
  layout = await makeLayout(dir); // dedicated session: web
  openStore(layout.config.stateDir).close(); // what the daemon's first start leaves
});
afterEach(async () => {
  await removeTempDir(dir);
});

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const task = (args: readonly string[], options: CliRunOptions = {}): Promise<CliRun> => runCli(['--config', layout.configFile, 'task', ...args], options);

/** Work on the queue as the daemon would, from this process. */
async function onQueue<T>(work: (queue: ReturnType<typeof openStore>['tasks']) => Promise<T>): Promise<T> {
  const store = openStore(layout.config.stateDir);
  try {
    return await work(store.tasks);
  } finally {
    store.close();
  }
}

const queued = (): Promise<Task[]> => onQueue((q) => q.list());

async function added(args: readonly string[], options: CliRunOptions = {}): Promise<number> {
  const result = await task(['add', ...args], options);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^\d+\n$/);
  return Number(result.stdout);
}

/** Claimed, started and finished as the dispatcher would, with `result`. */
const finish = (id: number, result: string) =>
  onQueue(async (q) => {
    const claimed = await q.claim('auto-1', { autonomous: true });
    expect(claimed?.id).toBe(id);
    await q.started(id, 'conversation-1');
    await q.finished(id, result);
  });

describe('task add', () => {
  it('queues the prompt with every option and prints only its id; list --json gives the task in the issue\'s shape', async () => {
    await mkdir(join(dir, 'project'));
    const id = await added(['--cwd', join(dir, 'project'), '--session', 'web', '--priority', '5', '--timeout', '1h30m', '--retries', '3', '--continue', 'Fix the build']);
    expect(id).toBe(1);
    const list = await task(['list', '--json']);
    expect(list).toMatchObject({ code: 0, stderr: '' });
    const tasks = JSON.parse(list.stdout) as TaskJson[];
    expect(tasks).toEqual([
      {
        id: 1,
        state: 'queued',
        session: null,
        sessionId: null,
        prompt: 'Fix the build',
        attempts: 0,
        createdAt: expect.stringMatching(ISO) as string,
        startedAt: null,
        finishedAt: null,
        result: null,
        error: null,
        // besides the fields: what was asked for
        cwd: join(dir, 'project'),
        target: 'web',
        mode: 'continue',
        priority: 5,
        timeoutMs: 5_400_000,
        maxAttempts: 4,
      },
    ]);
  });

  it('--json prints {"id": N}', async () => {
    await added(['First']);
    const result = await task(['add', '--json', 'Second']);
    expect(result).toEqual({ code: 0, stdout: '{"id":2}\n', stderr: '' });
    expect((JSON.parse(result.stdout) as { id: number }).id).toBe(2);
    expect((await queued()).map((t) => t.prompt)).toEqual(['First', 'Second']);
  });

  it('makes a relative --cwd absolute from where it is run', async () => {
    await mkdir(join(dir, 'project'));
    // The CLI runs in this process's cwd.
    await added(['--cwd', relative(process.cwd(), join(dir, 'project')), 'p']);
    expect((await queued())[0]?.cwd).toBe(join(dir, 'project'));
  });

  it('reads the prompt from --file, from stdin with "-", and from stdin with no argument', async () => {
    await writeFile(join(dir, 'prompt.md'), 'From a file\nsecond line\n');
    await added(['--file', join(dir, 'prompt.md')]);
    await added(['-'], { input: 'From stdin\n' });
    await added([], { input: 'Piped in\n' });
    expect((await queued()).map((t) => [t.prompt, t.mode, t.target, t.cwd, t.timeoutMs])).toEqual([
      ['From a file\nsecond line', 'fresh', null, null, null],
      ['From stdin', 'fresh', null, null, null],
      ['Piped in', 'fresh', null, null, null],
    ]);
  });

  it.each([
    ['no prompt (stdin empty)', [], 'the prompt is empty'],
    ['a blank prompt', ['   '], 'the prompt is empty'],
    ['a missing cwd', ['--cwd', 'no-such-dir', 'p'], 'no-such-dir does not exist'],
    ['a file as cwd', ['--cwd', '<dir>/a-file', 'p'], '--cwd <dir>/a-file is not a directory'],
    ['an unknown session', ['--session', 'db', 'p'], '--session "db" is not a dedicated session: the config\'s dedicated sessions are web'],
    ['an autonomous session named', ['--session', 'auto-1', 'p'], 'not a dedicated session'],
    ['a timeout without a unit', ['--timeout', '30', 'p'], '--timeout must be a duration like 30s, 10m, 2h or 1h30m, not "30"'],
    ['a zero timeout', ['--timeout', '0m', 'p'], '--timeout must be more than zero'],
    ['a priority that is no integer', ['--priority', 'high', 'p'], '--priority must be an integer, not "high"'],
    ['negative retries', ['--retries', '-1', 'p'], '--retries must be an integer from 0 to 100, not "-1"'],
    ['both modes', ['--fresh', '--continue', 'p'], '--fresh and --continue exclude each other'],
    ['a prompt twice', ['--file', '<dir>/a-file', 'p'], 'give the prompt once'],
    ['an unreadable file', ['--file', 'no-such-file.md'], 'cannot read --file no-such-file.md'],
  ])('refuses %s: exit 1, says why, queues nothing', async (_what, args, says) => {
    await writeFile(join(dir, 'a-file'), 'a prompt');
    const inDir = (text: string) => text.replaceAll('<dir>', dir);
    const result = await task(['add', ...args.map(inDir)]);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`claude-failover task add: `);
    expect(result.stderr).toContain(inDir(says));
    expect(result.code).toBe(1);
    expect(await queued()).toEqual([]);
  });

  it('names every problem at once', async () => {
    const result = await task(['add', '--priority', 'x', '--timeout', 'soon', '']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('claude-failover task add: the prompt is empty; --priority must be an integer, not "x"; --timeout must be a duration like 30s, 10m, 2h or 1h30m, not "soon"\n');
  });

  it('says clearly when no daemon ever ran with this config, and makes no state dir', async () => {
    const fresh = await makeLayout(join(dir, 'other'));
    for (const args of [['add', 'p'], ['list'], ['show', '1']]) {
      const result = await runCli(['--config', fresh.configFile, 'task', ...args]);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toContain(`no task queue in ${fresh.config.stateDir} yet: the daemon has never run with this config (start it with: claude-failover run)`);
    }
    const wait = await runCli(['--config', fresh.configFile, 'task', 'wait', '1']);
    expect(wait.code).toBe(2);
    expect(existsSync(fresh.config.stateDir)).toBe(false);
  });
});

describe('task list and show', () => {
  it('lists a readable table, filters by state, refuses an unknown state', async () => {
    await added(['First task\nwith a second line']);
    await added(['--session', 'web', '--priority', '2', 'Second task']);
    await onQueue((q) => q.cancel(1));
    const table = await task(['list']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATE\s+PRI\s+SESSION\s+TRIES\s+CREATED\s+PROMPT$/);
    expect(lines[1]).toMatch(/^1\s+cancelled\s+0\s+-\s+0\/2\s+\S+Z\s+First task …$/);
    expect(lines[2]).toMatch(/^2\s+queued\s+2\s+web\s+0\/2\s+\S+Z\s+Second task$/);
    expect(lines).toHaveLength(3);

    const onlyQueued = JSON.parse((await task(['list', '--json', '--state', 'queued'])).stdout) as TaskJson[];
    expect(onlyQueued.map((t) => t.id)).toEqual([2]);
    expect(await task(['list', '--state', 'done'])).toEqual({ code: 0, stdout: 'no done tasks\n', stderr: '' });
    const bad = await task(['list', '--state', 'finished']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe('claude-failover task list: --state must be one of queued, running, done, failed, cancelled, not "finished"\n');
  });

  it('shows one task in full, as text and as JSON; an unknown or malformed id is refused', async () => {
    const id = await added(['--timeout', '10m', 'Write the changelog']);
    await finish(id, 'The changelog is written.');
    const text = await task(['show', String(id)]);
    expect(text.code).toBe(0);
    for (const line of ['task 1: done', '  prompt     Write the changelog', '  timeout    10m', '  attempts   1 of 2', '  session    auto-1', '  conversation conversation-1', '  result     The changelog is written.']) expect(text.stdout).toContain(line);
    const json = JSON.parse((await task(['show', String(id), '--json'])).stdout) as TaskJson;
    expect(json).toMatchObject({ id, state: 'done', session: 'auto-1', sessionId: 'conversation-1', attempts: 1, result: 'The changelog is written.', startedAt: expect.stringMatching(ISO) as string, finishedAt: expect.stringMatching(ISO) as string });
    expect(await task(['show', '9'])).toEqual({ code: 1, stdout: '', stderr: 'claude-failover task show: no task 9\n' });
    expect(await task(['show', 'x1'])).toEqual({ code: 1, stdout: '', stderr: 'claude-failover task show: a task id is a positive integer, not "x1"\n' });
  });
});

describe('task cancel and retry', () => {
  it('cancels a queued task once, retries it, and refuses what does not apply', async () => {
    const id = await added(['p']);
    expect(await task(['retry', String(id)])).toEqual({ code: 1, stdout: '', stderr: 'claude-failover task retry: task 1 is queued: only a failed or cancelled task can be retried\n' });
    expect(await task(['cancel', String(id)])).toEqual({ code: 0, stdout: 'task 1 cancelled (it was queued)\n', stderr: '' });
    expect((await onQueue((q) => q.get(id)))?.state).toBe('cancelled');
    expect(await task(['cancel', String(id)])).toEqual({ code: 1, stdout: '', stderr: 'claude-failover task cancel: task 1 is cancelled: only a queued or running task can be cancelled\n' });
    expect(await task(['retry', String(id)])).toEqual({ code: 0, stdout: 'task 1 queued again (it was cancelled)\n', stderr: '' });
    expect((await onQueue((q) => q.get(id)))?.state).toBe('queued');
    expect((await task(['cancel', '7'])).stderr).toBe('claude-failover task cancel: no task 7\n');
    expect((await task(['retry', '7'])).code).toBe(1);
  });

  it('retries a failed task from zero attempts', async () => {
    const id = await added(['--retries', '0', 'p']);
    await onQueue(async (q) => {
      await q.claim('auto-1', { autonomous: true });
      await q.started(id, 'c1');
      await q.failed(id, 'the session died', { retry: true });
    });
    expect((await onQueue((q) => q.get(id)))?.state).toBe('failed');
    expect((await task(['retry', String(id)])).code).toBe(0);
    expect(await onQueue((q) => q.get(id))).toMatchObject({ state: 'queued', attempts: 0, error: null });
  });
});

describe('task wait', () => {
  it('exits 0 and prints the result once the task is done', async () => {
    const id = await added(['p']);
    const waiting = task(['wait', String(id)], { timeoutMs: 60_000 });
    await finish(id, 'All green.');
    expect(await waiting).toEqual({ code: 0, stdout: 'All green.\n', stderr: '' });
  });

  it('exits 1 when the task failed, with its error, and when it was cancelled', async () => {
    const failing = await added(['--retries', '0', 'p']);
    const waiting = task(['wait', String(failing)], { timeoutMs: 60_000 });
    await onQueue(async (q) => {
      await q.claim('auto-1', { autonomous: true });
      await q.started(failing, 'c1');
      await q.failed(failing, 'timed out after 10m', { retry: false });
    });
    expect(await waiting).toEqual({ code: 1, stdout: '', stderr: `claude-failover task wait: task ${failing} failed: timed out after 10m\n` });

    const cancelled = await added(['q']);
    const waitingToo = task(['wait', String(cancelled)], { timeoutMs: 60_000 });
    await onQueue((q) => q.cancel(cancelled));
    expect(await waitingToo).toEqual({ code: 1, stdout: '', stderr: `claude-failover task wait: task ${cancelled} cancelled\n` });
  });

  it('exits 2 past its --timeout, for an unknown id and for a timeout that is no duration', async () => {
    const id = await added(['p']);
    expect(await task(['wait', String(id), '--timeout', '1s'])).toEqual({ code: 2, stdout: '', stderr: 'claude-failover task wait: task 1 is still queued after 1s\n' });
    expect(await task(['wait', '5'])).toEqual({ code: 2, stdout: '', stderr: 'claude-failover task wait: no task 5\n' });
    const bad = await task(['wait', String(id), '--timeout', 'later']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--timeout must be a duration');
  });
});
