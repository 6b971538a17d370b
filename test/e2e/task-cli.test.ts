import { describe, expect, it } from 'vitest';
import type { TaskJson } from '../../src/store/task-queue.js';
import { useE2e } from '../helpers/e2e-fixture.js';
import { runCli, type CliRun } from '../helpers/cli.js';

const TOKEN = 'a-token-of-sixteen-chars';

describe('the task queue from the CLI and over HTTP, with the daemon running (real tmux, fake Claude Code)', () => {
  const e2e = useE2e('cf-task-cli');

  it('a task the CLI queues is served by the daemon, one the daemon takes over HTTP is read by the CLI, a cancel over HTTP ends a CLI wait', async () => {
    // No autonomous session: a task for any of them stays queued, whatever the dispatcher does.
    const sandbox = await e2e.sandbox({
      accounts: [{ name: 'A', quota: { limit: 100_000, turnMs: 50 } }],
      autonomous: { min: 0, max: 0 },
      dedicated: ['web'],
      server: { listen: '127.0.0.1:0', token: TOKEN },
    });
    const d = await e2e.startDaemon(sandbox, { http: true });
    const url = d.httpUrl ?? '';
    const auth = { authorization: `Bearer ${TOKEN}` };
    const cli = (...args: string[]): Promise<CliRun> => runCli(['--config', sandbox.configFile, 'task', ...args], { timeoutMs: 60_000 });

    const added = await cli('add', '--priority', '3', 'Queued from the command line');
    expect(added).toMatchObject({ code: 0, stderr: '' });
    const first = Number(added.stdout);
    expect(await (await fetch(`${url}/api/tasks/${first}`, { headers: auth })).json()).toMatchObject({ id: first, state: 'queued', prompt: 'Queued from the command line', priority: 3 });

    const posted = await fetch(`${url}/api/tasks`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ prompt: 'Queued over HTTP', timeout: '10m' }) });
    expect(posted.status).toBe(201);
    const second = ((await posted.json()) as TaskJson).id;
    const listed = JSON.parse((await cli('list', '--json')).stdout) as TaskJson[];
    expect(listed.map((t) => [t.id, t.prompt, t.timeoutMs])).toEqual([[first, 'Queued from the command line', null], [second, 'Queued over HTTP', 600_000]]);

    // The daemon knows the config's dedicated sessions.
    const refused = await fetch(`${url}/api/tasks`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ prompt: 'p', session: 'api' }) });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toBe('session "api" is not a dedicated session: the config\'s dedicated sessions are web');

    const waiting = cli('wait', String(second));
    expect((await fetch(`${url}/api/tasks/${second}`, { method: 'DELETE', headers: auth })).status).toBe(200);
    expect(await waiting).toEqual({ code: 1, stdout: '', stderr: `claude-failover task wait: task ${second} cancelled\n` });
    expect((await d.store.tasks.get(first))?.state).toBe('queued');
  });
});
