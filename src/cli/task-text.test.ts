import { describe, expect, it } from 'vitest';
import type { Task } from '../store/task-queue.js';
import { describeTask, listing } from './task-text.js';

const task = (over: Partial<Task>): Task => ({
  id: 1, prompt: 'Fix the build', cwd: '/srv/app', target: null, mode: 'fresh', priority: 0, timeoutMs: null, maxAttempts: 2,
  state: 'queued', session: null, sessionId: null, attempts: 0, createdAt: new Date('2026-12-01T10:00:00Z'),
  startedAt: null, finishedAt: null, result: null, error: null, ...over,
});

describe('tasks in words', () => {
  it('names, under the table and in a task in full, the hosts that cannot run a waiting task', () => {
    const tasks = [task({ id: 1, host: null, cannotRunOn: ['h1', 'h2'] }), task({ id: 2, host: null, cannotRunOn: [] }), task({ id: 3, state: 'done', host: 'h1', cannotRunOn: ['h2'] })];
    const text = listing(tasks);
    const [header, ...rest] = text.split('\n');
    expect(header).toMatch(/^ID\s+STATE\s+PRI\s+SESSION\s+TRIES\s+CREATED\s+PROMPT$/);
    expect(rest.slice(0, 3).map((l) => l.split(/\s+/)[0])).toEqual(['1', '2', '3']);
    // Only the waiting task some hosts cannot run gets a line; a finished one's old verdicts say nothing.
    expect(rest.slice(3)).toEqual(['', 'task 1: cannot run on h1, h2 (its cwd or its session is not theirs)']);
    expect(describeTask(tasks[0] as Task)).toMatch(/^ {2}waiting {4}cannot run on h1, h2 \(its cwd or its session is not theirs\)$/m);
    expect(describeTask(tasks[2] as Task)).not.toContain('waiting');
  });

  it('a single host\'s queue (no verdicts) lists the table alone', () => {
    const text = listing([task({ id: 4 })]);
    expect(text.split('\n')).toHaveLength(2);
    expect(describeTask(task({ id: 4 }))).not.toContain('waiting');
  });
});
