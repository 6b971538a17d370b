import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSandbox } from '../../src/demo/sandbox.js';
import { openStore } from '../../src/store/sqlite-store.js';
import { sendRequest } from '../../src/monitor/control-socket.js';
import { daemonSocketPath } from '../../src/claude/self-command.js';
import { useE2e } from '../helpers/e2e-fixture.js';
import { exitOf } from '../helpers/cli.js';
import { tmux } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait-for.js';
import { recordFigure } from './figures.js';

/**
 * Probe 7, the last line: every path of the installation (account homes, project dirs, the
 * shared and state dirs, the config) under a directory whose name holds a space, both
 * quotes, `$()`, backquotes, `;` and a newline. Each would run a command (`touch cfpwn…`)
 * if any of them reached a shell unquoted.
 */
const HOSTILE = `a b'c"d$(touch cfpwn1);e\`touch cfpwn2\`\nf`;
const POOL = ['auto-1', 'web'];

/** Every file under `dir` whose name starts with cfpwn (what the hostile name would make). */
function canaries(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.name.startsWith('cfpwn')) out.push(path);
    if (entry.isDirectory()) out.push(...canaries(path));
  }
  return out;
}

describe('paths with spaces, quotes, $(), backquotes, ; and newlines (probe 7)', () => {
  const e2e = useE2e('cf-paths');

  it('launch, answer, swap and resume correctly, and run nothing else', async () => {
    const root = join(e2e.root, HOSTILE);
    const sandbox = await createSandbox({
      root,
      socket: e2e.socket,
      accounts: [
        { name: 'A', quota: { limit: 100_000, turnMs: 100 } },
        { name: 'B', quota: { limit: 100_000, turnMs: 100 } },
      ],
      autonomous: { min: 1, max: 1 },
      dedicated: ['web'],
      overrides: { monitor: { pollIntervalMs: 300, cooldownMs: 0 } },
    });
    const homeOf = (account: string) => join(sandbox.config.home, `.claude-${account}`);
    const daemon = e2e.spawnDaemon(sandbox);
    const store = openStore(sandbox.config.stateDir);
    const checks: Record<string, boolean> = {};
    try {
      const ready = (account: string) => () => {
        const sessions = store.listSessions();
        return POOL.every((n) => sessions.some((s) => s.name === n && s.state === 'idle' && s.account === account));
      };
      await waitFor(ready('A'), { timeoutMs: 90_000, intervalMs: 300, what: 'the pool up on A' });

      /** Where each pane's Claude Code runs and on which home, read from the process itself. */
      const launchedAs = (name: string) => {
        const pid = tmux(e2e.socket, 'display-message', '-p', '-t', `=${name}:`, '#{pane_pid}').trim();
        const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
        return { cwd: realpathSync(`/proc/${pid}/cwd`), home: env.find((e) => e.startsWith('CLAUDE_CONFIG_DIR='))?.slice('CLAUDE_CONFIG_DIR='.length) ?? null };
      };
      const webProject = realpathSync(join(root, 'projects', 'web'));
      const autoProject = realpathSync(join(root, 'projects', 'autonomous'));
      checks.launchedInProjectDirs = launchedAs('web').cwd === webProject && launchedAs('auto-1').cwd === autoProject;
      checks.launchedOnHomeA = POOL.every((n) => launchedAs(n).home === homeOf('A'));

      // A prompt answered, its transcript in the shared dir.
      tmux(e2e.socket, 'send-keys', '-t', '=web:', '-l', 'hello [turns=1]');
      tmux(e2e.socket, 'send-keys', '-t', '=web:', 'Enter');
      const transcriptDir = join(sandbox.config.sharedDir, 'projects', webProject.replace(/[^A-Za-z0-9]/g, '-'));
      await waitFor(() => readdirSync(transcriptDir).some((f) => f.endsWith('.jsonl')), { timeoutMs: 30_000, what: 'the transcript' });
      await waitFor(() => store.getSession('web')?.state === 'idle' && store.getSession('web')?.sessionId, { what: 'web answered' });
      const webSession = store.getSession('web')?.sessionId ?? null;
      checks.answered = webSession !== null;

      // A swap to B: every session relaunched from its hostile cwd on B's hostile home, web resumed as itself.
      const outcome = (await sendRequest(daemonSocketPath(sandbox.config), 'switch', { account: 'B' }, { timeoutMs: 90_000 })) as { result?: string };
      checks.swapped = outcome.result === 'done';
      await waitFor(ready('B'), { timeoutMs: 90_000, intervalMs: 300, what: 'the pool up on B' });
      checks.relaunchedOnHomeB = POOL.every((n) => launchedAs(n).home === homeOf('B'));
      checks.relaunchedInProjectDirs = launchedAs('web').cwd === webProject;
      checks.resumedAsItself = store.getSession('web')?.sessionId === webSession;
    } finally {
      store.close();
    }
    daemon.kill('SIGTERM');
    expect(await exitOf(daemon, 60_000)).toEqual({ code: 0, signal: null });
    // Under the test's dir, in the test home, and where the tests run.
    const ran = [...canaries(e2e.root), ...canaries(process.env.HOME ?? e2e.root), ...readdirSync(process.cwd()).filter((n) => n.startsWith('cfpwn'))];
    checks.ranNothingElse = ran.length === 0;
    const passes = Object.values(checks).filter(Boolean).length;
    recordFigure({ probe: 'hostile paths launch correctly and run nothing else', test: 'test/reliability/hostile-paths.test.ts', runs: Object.keys(checks).length, passes, measured: { ...checks, canaryFiles: ran.length } });
    expect(checks).toEqual(Object.fromEntries(Object.keys(checks).map((k) => [k, true])));
  }, 300_000);
});
