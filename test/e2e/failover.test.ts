import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../../src/daemon.js';
import { createSandbox, type Sandbox, type SandboxAccount } from '../../src/demo/sandbox.js';
import type { SwitchOutcome } from '../../src/switcher/types.js';
import { testLogger } from '../helpers/test-logger.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';
import { killPrivateServer, privateSocketName } from '../helpers/private-tmux.js';
import { startTelegramStandIn, type TelegramStandIn } from '../helpers/telegram-stand-in.js';
import { waitFor } from '../helpers/wait-for.js';
import { tmux, transcripts, userPrompts, waitForIdlePool } from '../helpers/e2e.js';

const RESUME_PROMPT = 'Continue the task you were working on when the usage limit was reached; do not repeat work that is already complete.';

describe('failover end to end (real tmux, fake Claude Code, in-process daemon)', () => {
  let root: string;
  let socket: string;
  let telegram: TelegramStandIn;
  let daemon: Daemon | null = null;
  const outcomes: SwitchOutcome[] = [];

  beforeEach(async () => {
    root = await makeTempDir('cf-e2e');
    socket = privateSocketName('cf-e2e');
    telegram = await startTelegramStandIn();
    outcomes.length = 0;
  });

  afterEach(async () => {
    await daemon?.stop();
    daemon = null;
    killPrivateServer(socket);
    await telegram.close();
    await removeTempDir(root);
  });

  async function start(accounts: SandboxAccount[], monitor: Record<string, unknown> = {}): Promise<Sandbox> {
    const sandbox = await createSandbox({
      root,
      socket,
      accounts,
      autonomous: { min: 2, max: 2 },
      dedicated: ['web'],
      overrides: {
        monitor: { pollIntervalMs: 300, cooldownMs: 1000, returnMarginMs: 500, ...monitor },
        notify: { telegram: { botToken: '123456:TEST-TOKEN', chatId: '42', apiBase: telegram.url } },
      },
    });
    daemon = await startDaemon({ config: sandbox.config, logger: testLogger(), reconcileMs: 500, onSwap: (o) => outcomes.push(o) });
    return sandbox;
  }

  const doneSwaps = () => outcomes.filter((o): o is Extract<SwitchOutcome, { result: 'done' }> => o.result === 'done');
  const telegramTexts = () => telegram.messages.map((m) => String(m.body.text));

  it('moves the whole pool to B at the limit, resuming every conversation, and returns to A after its reset; a session outside the pool is untouched', async () => {
    tmux(socket, 'new-session', '-d', '-s', 'ccl-0', 'sleep 100000');
    const outsidePid = tmux(socket, 'display-message', '-p', '-t', 'ccl-0', '#{pane_pid}').trim();
    const resetsAt = Math.floor(Date.now() / 1000) + 25;
    const sandbox = await start([
      { name: 'A', quota: { limit: 6, used: 0, resetsAt, windowSeconds: 3600, turnMs: 250 } },
      { name: 'B', quota: { limit: 1000, used: 0, windowSeconds: 18000, turnMs: 250 } },
    ]);
    const d = daemon as Daemon;
    const names = ['auto-1', 'auto-2', 'web'];
    await waitForIdlePool(d, names);
    // web gets a short conversation and then idles; the autonomous ones get long tasks.
    expect(await d.pool.sendPrompt('web', 'Say hello [turns=1]')).toBe(true);
    await waitFor(() => transcripts(sandbox).size >= 1 && d.store.getSession('web')?.state === 'idle', { what: 'web answered' });
    const before = new Map(names.map((n) => [n, d.store.getSession(n)?.sessionId ?? '']));
    expect(await d.pool.sendPrompt('auto-1', 'Refactor the parser [turns=6]')).toBe(true);
    expect(await d.pool.sendPrompt('auto-2', 'Write the tests [turns=6]')).toBe(true);

    await waitFor(() => doneSwaps().length >= 1, { timeoutMs: 60_000, what: 'the swap to B' });
    const swap = doneSwaps()[0];
    expect(swap?.from).toBe('A');
    expect(swap?.to).toBe('B');
    expect(readlinkSync(sandbox.config.link)).toBe(join(sandbox.config.home, '.claude-B'));
    const status = await d.status();
    expect(status.activeAccount).toBe('B');
    expect(status.link).toBe('B');
    for (const name of names) {
      const s = status.sessions.find((x) => x.name === name);
      expect(s?.account).toBe('B');
      expect(s?.sessionId).toBe(before.get(name));
    }
    expect(status.swaps.filter((s) => s.result === 'done')).toHaveLength(1);
    // The same transcript keeps growing: the working sessions got the continuation prompt.
    await waitFor(() => {
      const t = transcripts(sandbox);
      return ['auto-1', 'auto-2'].every((n) => userPrompts(t.get(before.get(n) ?? '') ?? []).includes(RESUME_PROMPT));
    }, { timeoutMs: 30_000, what: 'continuation prompts recorded in the same transcripts' });
    expect(userPrompts(transcripts(sandbox).get(before.get('web') ?? '') ?? [])).toEqual(['Say hello [turns=1]']);
    await waitFor(() => telegramTexts().filter((t) => t.includes('A → B')).length === 1, { what: 'one swap notification' });

    // (b) After A's reset (plus the margin) the pool returns to A, conversations intact.
    await waitFor(() => doneSwaps().length >= 2, { timeoutMs: 60_000, what: 'the return to A' });
    expect(doneSwaps()[1]?.to).toBe('A');
    expect(readlinkSync(sandbox.config.link)).toBe(join(sandbox.config.home, '.claude-A'));
    const back = await d.status();
    for (const name of names) {
      const s = back.sessions.find((x) => x.name === name);
      expect(s?.account).toBe('A');
      expect(s?.sessionId).toBe(before.get(name));
    }
    expect(telegramTexts().some((t) => t.startsWith('Returned to the preferred account'))).toBe(true);
    // Only one swap message per swap, whatever the number of sessions that saw the limit.
    expect(telegramTexts().filter((t) => t.includes('A → B'))).toHaveLength(1);

    // (g) The operator's own session was never touched.
    expect(tmux(socket, 'display-message', '-p', '-t', 'ccl-0', '#{pane_pid} #{pane_dead}').trim()).toBe(`${outsidePid} 0`);
  });
});
