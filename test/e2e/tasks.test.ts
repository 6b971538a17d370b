import { describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { Sandbox } from '../../src/demo/sandbox.js';
import type { Task } from '../../src/store/task-queue.js';
import { DEFAULT_RESUME_PROMPT } from '../../src/config/schema.js';
import { waitFor } from '../helpers/wait-for.js';
import { tmux, transcripts, userPrompts } from '../helpers/e2e.js';
import { useE2e } from '../helpers/e2e-fixture.js';
import { exitOf } from '../helpers/cli.js';
import { openStore } from '../../src/store/sqlite-store.js';

/** Every user prompt in every transcript, continuation prompts left out. */
function promptsEverywhere(sandbox: Sandbox): string[] {
  return [...transcripts(sandbox).values()].flatMap((lines) => userPrompts(lines)).filter((p) => p !== DEFAULT_RESUME_PROMPT);
}

async function allEnded(d: Daemon, ids: readonly number[]): Promise<Task[] | false> {
  await d.tick();
  const tasks = await Promise.all(ids.map((id) => d.store.tasks.get(id)));
  return tasks.every((t) => t && (t.state === 'done' || t.state === 'failed' || t.state === 'cancelled')) ? (tasks as Task[]) : false;
}

describe('the task queue end to end (real tmux, fake Claude Code)', () => {
  const e2e = useE2e('cf-tasks', { telegram: true });

  it('runs 10 tasks over 3 autonomous sessions through a limit: each done exactly once, some finished on B, each with its result', async () => {
    const sandbox = await e2e.sandbox({
      accounts: [
        { name: 'A', quota: { limit: 9, used: 0, windowSeconds: 3600, turnMs: 150 } },
        { name: 'B', quota: { limit: 1000, used: 0, windowSeconds: 18000, turnMs: 150 } },
      ],
      autonomous: { min: 0, max: 3 },
      monitor: { returnMarginMs: 600_000 },
    });
    const d = await e2e.startDaemon(sandbox);
    const prompts = Array.from({ length: 10 }, (_, i) => `Task number ${String(i + 1)} [turns=2]`);
    const ids: number[] = [];
    for (const prompt of prompts) ids.push((await d.store.tasks.add({ prompt })).id);

    const ended = await waitFor(() => allEnded(d, ids), { timeoutMs: 150_000, intervalMs: 250, what: 'all 10 tasks ended' });
    expect(ended.map((t) => t.state)).toEqual(Array(10).fill('done'));
    // Its result is its conversation's last answer (for a task carried over by the swap's continuation, the answer to that).
    for (const t of ended) expect(t.result).toMatch(/^Step (2 of 2|1 of 1) done\.$/);
    // Each prompt reached Claude Code exactly once, across every transcript.
    const seen = promptsEverywhere(sandbox);
    for (const prompt of prompts) expect(seen.filter((p) => p === prompt)).toHaveLength(1);
    // The quota ran out part-way: the pool moved to B, and work went on there.
    const swap = e2e.doneSwaps()[0];
    expect(swap).toMatchObject({ from: 'A', to: 'B' });
    const swapAt = (await d.status()).swaps.find((s) => s.to === 'B')?.at ?? '';
    expect(ended.filter((t) => (t.finishedAt?.getTime() ?? 0) > Date.parse(swapAt)).length).toBeGreaterThan(0);
    // Three autonomous sessions shared the work; none was used beyond max.
    expect(new Set(ended.map((t) => t.session)).size).toBeGreaterThan(1);
    expect(ended.every((t) => t.session?.startsWith('auto-'))).toBe(true);
    await waitFor(() => e2e.telegramTexts().some((t) => t.includes('The task queue has drained: 10 done, 0 failed')), { what: 'one drained notice' });
  });

  it('lets the autonomous sessions beyond min go once their work is done, and they stay gone', async () => {
    const sandbox = await e2e.sandbox({ accounts: [{ name: 'A', quota: { limit: 1000, used: 0, windowSeconds: 3600, turnMs: 150 } }], autonomous: { min: 1, max: 3 } });
    const d = await e2e.startDaemon(sandbox);
    const ids: number[] = [];
    for (let i = 1; i <= 3; i++) ids.push((await d.store.tasks.add({ prompt: `Scaling task ${String(i)} [turns=3]` })).id);
    const ended = await waitFor(() => allEnded(d, ids), { timeoutMs: 60_000, intervalMs: 250, what: 'the three tasks done' });
    expect(ended.map((t) => t.state)).toEqual(['done', 'done', 'done']);
    // The queue wanted three sessions: more than one ran the tasks.
    expect(new Set(ended.map((t) => t.session)).size).toBeGreaterThan(1);
    const sessionsInTmux = () => tmux(e2e.socket, 'list-sessions', '-F', '#{session_name}').split('\n').filter((n) => n.startsWith('auto-')).sort();
    await waitFor(async () => {
      await d.tick();
      return sessionsInTmux().join(' ') === 'auto-1';
    }, { timeoutMs: 30_000, intervalMs: 250, what: 'only the min (auto-1) left' });
    // Let go means gone: the ticks after it start nothing again.
    const launches = () => ['auto-2', 'auto-3'].map((n) => d.store.getSession(n)?.restarts ?? -1);
    const before = launches();
    for (let i = 0; i < 6; i++) await d.tick();
    expect(sessionsInTmux()).toEqual(['auto-1']);
    expect(launches()).toEqual(before);
  });

  it('retries a task whose session is killed mid-task, fails a task past its timeout and goes on with the next', async () => {
    const sandbox = await e2e.sandbox({
      accounts: [{ name: 'A', quota: { limit: 1000, used: 0, windowSeconds: 3600, turnMs: 400 } }],
      dedicated: ['web'],
    });
    const d = await e2e.startDaemon(sandbox);
    const killed = await d.store.tasks.add({ prompt: 'A long task [turns=8]', target: 'web', maxAttempts: 2 });
    await waitFor(async () => (await d.store.tasks.get(killed.id))?.state === 'running', { timeoutMs: 30_000, what: 'the task running' });
    // The session dies under it: its tmux session is killed from outside.
    tmux(e2e.socket, 'kill-session', '-t', '=web');
    const retried = await waitFor(async () => {
      await d.tick();
      const t = await d.store.tasks.get(killed.id);
      return t?.state === 'done' && t;
    }, { timeoutMs: 60_000, intervalMs: 250, what: 'the task retried and done' });
    expect(retried).toMatchObject({ attempts: 2, result: 'Step 8 of 8 done.' });

    const slow = await d.store.tasks.add({ prompt: 'A task too slow for its timeout [turns=20]', target: 'web', timeoutMs: 1500 });
    const next = await d.store.tasks.add({ prompt: 'The next task [turns=1]', target: 'web' });
    const ended = await waitFor(() => allEnded(d, [slow.id, next.id]), { timeoutMs: 60_000, intervalMs: 250, what: 'the slow task failed and the next one done' });
    expect(ended[0]).toMatchObject({ state: 'failed', error: expect.stringContaining('timed out') as unknown });
    expect(ended[1]).toMatchObject({ state: 'done', result: 'Step 1 of 1 done.' });
    await waitFor(() => e2e.telegramTexts().some((t) => t.includes(`Task ${String(slow.id)} failed`)), { what: 'the failed-task notice' });
  });

  it('survives a SIGKILL of the daemon while tasks run: after the restart none is sent twice, every one completes', async () => {
    const sandbox = await e2e.sandbox({
      accounts: [{ name: 'A', quota: { limit: 1000, used: 0, windowSeconds: 3600, turnMs: 300 } }],
      autonomous: { min: 2, max: 2 },
    });
    const queue = openStore(sandbox.config.stateDir);
    try {
      const prompts = Array.from({ length: 5 }, (_, i) => `Restart-proof task ${String(i + 1)} [turns=5]`);
      const ids: number[] = [];
      for (const prompt of prompts) ids.push((await queue.tasks.add({ prompt })).id);
      const first = e2e.spawnDaemon(sandbox);
      await waitFor(async () => (await queue.tasks.counts()).running === 2, { timeoutMs: 60_000, intervalMs: 100, what: 'two tasks running' });
      first.kill('SIGKILL');
      await exitOf(first, 10_000);
      e2e.spawnDaemon(sandbox);
      const ended = await waitFor(async () => {
        const tasks = await Promise.all(ids.map((id) => queue.tasks.get(id)));
        return tasks.every((t) => t?.state === 'done') && tasks;
      }, { timeoutMs: 120_000, intervalMs: 250, what: 'every task done after the restart' });
      expect(ended.map((t) => t?.attempts)).toEqual(Array(5).fill(1));
      const seen = promptsEverywhere(sandbox);
      for (const prompt of prompts) expect(seen.filter((p) => p === prompt)).toHaveLength(1);
    } finally {
      queue.close();
    }
  });

  it('sends nothing while every account is exhausted, and resumes by itself after the reset', { timeout: 120_000 }, async () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 12;
    const sandbox = await e2e.sandbox({
      accounts: [{ name: 'A', quota: { limit: 3, used: 0, resetsAt, windowSeconds: 3600, turnMs: 150 } }],
      dedicated: ['web'],
    });
    const d = await e2e.startDaemon(sandbox);
    const ids: number[] = [];
    for (let i = 1; i <= 3; i++) ids.push((await d.store.tasks.add({ prompt: `Exhausting task ${String(i)} [turns=2]`, target: 'web' })).id);
    // The second task meets the limit: nowhere else to go.
    await waitFor(() => d.store.getLedgerEntry('A')?.exhausted === true, { timeoutMs: 30_000, what: 'A exhausted' });
    const whileExhausted = await d.store.tasks.get(ids[2] ?? 0);
    expect(whileExhausted?.state).toBe('queued');
    for (let i = 0; i < 4 && Date.now() < resetsAt * 1000 - 2000; i++) {
      await d.tick();
      expect((await d.store.tasks.get(ids[2] ?? 0))?.state).toBe('queued');
    }
    const ended = await waitFor(() => allEnded(d, ids), { timeoutMs: 60_000, intervalMs: 250, what: 'the queue resumed after the reset' }).catch(async (err: unknown) => {
      process.stderr.write(`DIAG ${JSON.stringify({ tasks: await d.store.tasks.list(), sessions: d.store.listSessions(), jobs: d.store.listJobs(), ledger: d.store.getLedger(), swaps: d.store.listSwaps(5), screen: tmux(e2e.socket, 'capture-pane', '-p', '-t', '=web:') })}\n`);
      throw err;
    });
    expect(ended.map((t) => t.state)).toEqual(['done', 'done', 'done']);
    expect((ended[2]?.startedAt?.getTime() ?? 0)).toBeGreaterThanOrEqual(resetsAt * 1000);
  });

  it('interrupts a running task an operator cancels, and the session takes the next one', async () => {
    const sandbox = await e2e.sandbox({ accounts: [{ name: 'A', quota: { limit: 1000, used: 0, windowSeconds: 3600, turnMs: 500 } }], dedicated: ['web'] });
    const d = await e2e.startDaemon(sandbox);
    const long = await d.store.tasks.add({ prompt: 'A task to cancel [turns=30]', target: 'web' });
    const next = await d.store.tasks.add({ prompt: 'The one after [turns=1]', target: 'web' });
    await waitFor(async () => (await d.store.tasks.get(long.id))?.state === 'running', { timeoutMs: 30_000, what: 'the long task running' });
    await d.store.tasks.cancel(long.id);
    const ended = await waitFor(() => allEnded(d, [long.id, next.id]), { timeoutMs: 60_000, intervalMs: 250, what: 'the next task done' });
    expect(ended.map((t) => t.state)).toEqual(['cancelled', 'done']);
    // The cancelled turn was interrupted, not left to run its 30 steps.
    const lines = transcripts(sandbox).get(ended[0]?.sessionId ?? '') ?? [];
    expect(lines.some((l) => l.includes('[Request interrupted by user]'))).toBe(true);
  });
});
