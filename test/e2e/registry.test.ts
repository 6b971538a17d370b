import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { Sandbox } from '../../src/demo/sandbox.js';
import { waitFor } from '../helpers/wait-for.js';
import { tmux, transcripts, userPrompts, waitForIdlePool } from '../helpers/e2e.js';
import { useE2e } from '../helpers/e2e-fixture.js';

describe('session registry (real tmux, fake Claude Code, in-process daemon)', () => {
  const e2e = useE2e('cf-registry');
  let sandbox: Sandbox;
  /** The daemon's clock runs ahead by this much: lets a launch be "long ago" without waiting. */
  let clockAhead = 0;

  beforeEach(async () => {
    clockAhead = 0;
    sandbox = await e2e.sandbox({
      accounts: [
        { name: 'A', quota: { limit: 1000, turnMs: 50 } },
        { name: 'B', quota: { limit: 1000, turnMs: 50 } },
      ],
      autonomous: { min: 1, max: 1 },
      monitor: { returnMarginMs: 500 },
    });
    await e2e.startDaemon(sandbox, { reconcileMs: 300, now: () => new Date(Date.now() + clockAhead) });
  });

  const startCommand = () => tmux(e2e.socket, 'display-message', '-p', '-t', 'auto-1', '#{pane_start_command}');
  const prompts = (id: string) => userPrompts(transcripts(sandbox).get(id) ?? []);
  /** Sends a prompt and waits until the transcript of `id` has recorded it. */
  async function ask(d: Daemon, id: string, prompt: string): Promise<void> {
    expect(await d.pool.sendPrompt('auto-1', prompt)).toBe(true);
    await waitFor(() => prompts(id).includes(prompt), { what: `"${prompt}" in ${id}` });
  }

  it('/clear gives the registry the new session id, and a later swap resumes the new conversation', async () => {
    const d = e2e.daemon;
    await waitForIdlePool(d, ['auto-1']);
    const first = d.store.getSession('auto-1')?.sessionId ?? '';
    await ask(d, first, 'Before the clear');

    expect(await d.pool.sendPrompt('auto-1', '/clear')).toBe(true);
    // SessionStart with source "clear" reaches the daemon through the hook.
    const cleared = await waitFor(() => {
      const id = d.store.getSession('auto-1')?.sessionId;
      return id && id !== first ? id : undefined;
    }, { what: 'the new session id in the registry' });
    await ask(d, cleared, 'After the clear');
    await waitForIdlePool(d, ['auto-1']);

    const outcome = await d.requestSwitch({ trigger: 'manual', target: 'B', reason: 'test' });
    expect(outcome.result).toBe('done');
    expect(outcome.result === 'done' ? outcome.sessions : []).toEqual([expect.objectContaining({ name: 'auto-1', sessionId: cleared, resumed: true, ok: true })]);
    expect(startCommand()).toContain(`--resume ${cleared}`);
    expect(startCommand()).toContain(join(sandbox.config.home, '.claude-B'));
    await ask(d, cleared, 'On B now');
    expect(prompts(cleared)).toEqual(['After the clear', 'On B now']);
    expect(prompts(first)).toEqual(['Before the clear']);
  });

  it('a session whose claude exits normally (/exit) is restarted with --resume of its conversation', async () => {
    const d = e2e.daemon;
    await waitForIdlePool(d, ['auto-1']);
    const id = d.store.getSession('auto-1')?.sessionId ?? '';
    await ask(d, id, 'Remember the number 42');
    await waitForIdlePool(d, ['auto-1']);
    const restarts = d.store.getSession('auto-1')?.restarts ?? -1;

    clockAhead = 60_000; // the session has been up a minute: its exit is not a failed launch
    expect(await d.pool.sendPrompt('auto-1', '/exit')).toBe(true);
    await waitFor(() => (d.store.getSession('auto-1')?.restarts ?? -1) > restarts, { what: 'auto-1 restarted by the daemon' });
    expect(startCommand()).toContain(`--resume ${id}`);
    await ask(d, id, 'What was the number?');
    expect(prompts(id)).toEqual(['Remember the number 42', 'What was the number?']);
    expect([...transcripts(sandbox).keys()]).toEqual([id]);
    expect(d.store.getSession('auto-1')).toMatchObject({ sessionId: id, account: 'A', lastError: null });
  });
});
