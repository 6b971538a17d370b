/**
 * The task queue's figures (issue 11): dispatch latency (a task queued → its prompt confirmed
 * by Claude Code in an idle session) and the throughput of many trivial tasks over a pool,
 * with the daemon's CPU per task. The daemon runs as `claude-failover run` (the built CLI),
 * the sessions are the fake Claude Code on a private tmux server, tasks are queued the way
 * `task add` queues them (a row in the daemon's database).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandbox } from '../src/demo/sandbox.js';
import { openStore } from '../src/store/sqlite-store.js';
import type { Store } from '../src/store/store.js';
import { endPrivateServer } from '../src/tmux/end-server.js';
import { cpuSeconds, percentile } from './proc-usage.js';

const LATENCY_TRIALS = Number(process.env.BENCH_TASK_TRIALS ?? 20);
const THROUGHPUT_TASKS = Number(process.env.BENCH_TASKS ?? 200);
const SESSIONS = Number(process.env.BENCH_TASK_SESSIONS ?? 10);

export interface TaskFigures {
  readonly dispatchLatencyMs: { readonly trials: number; readonly p50: number; readonly p95: number; readonly max: number };
  readonly throughput: { readonly tasks: number; readonly sessions: number; readonly seconds: number; readonly tasksPerMinute: number; readonly daemonCpuMsPerTask: number; readonly allDone: boolean };
  readonly at: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const round = (n: number) => Math.round(n * 10) / 10;

async function until(probe: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`bench (tasks): timed out waiting for ${what}`);
    await sleep(50);
  }
}

export async function taskFigures(say: (line: string) => void): Promise<TaskFigures> {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'cf-bench-tasks-')));
  const socket = `cf-bench-tasks-${String(process.pid)}`;
  const sandbox = await createSandbox({
    root,
    socket,
    accounts: [{ name: 'A', quota: { limit: 1_000_000, used: 0, windowSeconds: 86400, turnMs: 50 } }],
    autonomous: { min: SESSIONS, max: SESSIONS },
    overrides: { monitor: { pollIntervalMs: 1000 }, server: { listen: '127.0.0.1:0' } },
  });
  const daemon = spawn(process.execPath, ['dist/cli/main.js', 'run', '--config', sandbox.configFile], { stdio: 'ignore' });
  const store: Store = openStore(sandbox.config.stateDir);
  try {
    const pid = daemon.pid ?? 0;
    await until(() => store.listSessions().filter((s) => s.state === 'idle').length === SESSIONS, 90_000, `${String(SESSIONS)} idle sessions`);

    say(`tasks: dispatch latency, ${String(LATENCY_TRIALS)} trials…`);
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_TRIALS; i++) {
      const task = await store.tasks.add({ prompt: `Latency trial ${String(i)} [turns=1]` });
      await until(async () => (await store.tasks.get(task.id))?.state === 'done', 60_000, `latency trial ${String(i)}`);
      const done = await store.tasks.get(task.id);
      if (done?.startedAt) latencies.push(done.startedAt.getTime() - done.createdAt.getTime());
    }

    say(`tasks: ${String(THROUGHPUT_TASKS)} trivial tasks over ${String(SESSIONS)} sessions…`);
    const cpuBefore = cpuSeconds(pid);
    const started = Date.now();
    const ids: number[] = [];
    for (let i = 0; i < THROUGHPUT_TASKS; i++) ids.push((await store.tasks.add({ prompt: `Throughput task ${String(i)} [turns=1]` })).id);
    let allDone = true;
    try {
      await until(async () => (await store.tasks.counts()).done >= LATENCY_TRIALS + THROUGHPUT_TASKS, 15 * 60_000, 'every task done');
    } catch {
      allDone = false;
    }
    const seconds = (Date.now() - started) / 1000;
    const cpuMs = (cpuSeconds(pid) - cpuBefore) * 1000;
    const done = (await store.tasks.counts()).done - LATENCY_TRIALS;
    return {
      dispatchLatencyMs: { trials: latencies.length, p50: round(percentile(latencies, 50)), p95: round(percentile(latencies, 95)), max: round(Math.max(...latencies)) },
      throughput: { tasks: done, sessions: SESSIONS, seconds: round(seconds), tasksPerMinute: round((done / seconds) * 60), daemonCpuMsPerTask: round(cpuMs / Math.max(1, done)), allDone },
      at: new Date().toISOString(),
    };
  } finally {
    store.close();
    daemon.kill('SIGTERM');
    await new Promise((resolve) => daemon.once('exit', resolve));
    await endPrivateServer(socket);
    rmSync(root, { recursive: true, force: true });
  }
}

export function renderTasks(figures: TaskFigures | undefined): string[] {
  if (!figures) return ['## Task queue', '', '_No task queue figures yet: run `npm run bench` (or `BENCH_ONLY=tasks`)._', ''];
  const { dispatchLatencyMs: l, throughput: t } = figures;
  return [
    '## Task queue (fake Claude Code)',
    '',
    `Measured ${figures.at}. A task queued (a row, as \`task add\` writes it) → its prompt confirmed by Claude Code in an idle session; a fresh task relaunches its session in a new conversation first.`,
    '',
    '| figure | value |',
    '| --- | --- |',
    `| dispatch latency p50 / p95 / max (${String(l.trials)} trials) | ${String(l.p50)} / ${String(l.p95)} / ${String(l.max)} ms |`,
    `| ${String(t.tasks)} trivial tasks over ${String(t.sessions)} sessions | ${String(t.seconds)} s, ${String(t.tasksPerMinute)} tasks/min${t.allDone ? '' : ' (NOT all done)'} |`,
    `| daemon CPU per task | ${String(t.daemonCpuMsPerTask)} ms |`,
    '',
  ];
}
