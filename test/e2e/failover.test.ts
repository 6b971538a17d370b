import { readFileSync, readlinkSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DaemonOptions } from '../../src/daemon.js';
import type { Sandbox, SandboxAccount } from '../../src/demo/sandbox.js';
import { DEFAULT_RESUME_PROMPT } from '../../src/config/schema.js';
import { waitFor } from '../helpers/wait-for.js';
import { setImmutable, tmux, transcripts, userPrompts, waitForIdlePool } from '../helpers/e2e.js';
import { useE2e } from '../helpers/e2e-fixture.js';
import { runCli } from '../helpers/cli.js';
import { PARTIAL_SWAP_FLAG } from '../../src/switcher/types.js';

describe('failover end to end (real tmux, fake Claude Code, in-process daemon)', () => {
  const e2e = useE2e('cf-e2e', { telegram: true });
  const { outcomes, doneSwaps, telegramTexts } = e2e;

  async function start(accounts: SandboxAccount[], monitor: Record<string, unknown> = {}, options: Partial<DaemonOptions> = {}): Promise<Sandbox> {
    const sandbox = await e2e.sandbox({ accounts, autonomous: { min: 2, max: 2 }, dedicated: ['web'], monitor: { cooldownMs: 1000, returnMarginMs: 500, ...monitor } });
    await e2e.startDaemon(sandbox, { http: true, ...options });
    return sandbox;
  }

  it('moves the whole pool to B at the limit, resuming every conversation, and returns to A after its reset; a session outside the pool is untouched', async () => {
    tmux(e2e.socket, 'new-session', '-d', '-s', 'ccl-0', 'sleep 100000');
    const outsidePid = tmux(e2e.socket, 'display-message', '-p', '-t', 'ccl-0', '#{pane_pid}').trim();
    const resetsAt = Math.floor(Date.now() / 1000) + 25;
    const sandbox = await start([
      { name: 'A', quota: { limit: 6, used: 0, resetsAt, windowSeconds: 3600, turnMs: 250 } },
      { name: 'B', quota: { limit: 1000, used: 0, windowSeconds: 18000, turnMs: 250 } },
    ]);
    const d = e2e.daemon;
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
    expect(status.swaps.map((s) => [s.from, s.to, s.result])).toEqual([['A', 'B', 'done']]);
    // Each pane now runs claude with B's home: read from the process's own environment.
    for (const name of names) {
      const pid = tmux(e2e.socket, 'display-message', '-p', '-t', `=${name}:`, '#{pane_pid}').trim();
      expect(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')).toContain(`CLAUDE_CONFIG_DIR=${join(sandbox.config.home, '.claude-B')}`);
    }
    const filesAtSwap = [...transcripts(sandbox).keys()].sort();
    // What the product promises: every conversation that was working when the limit hit goes
    // on under B, in its own transcript, continued once. Whether the second working session
    // also reached the limit before the swap stopped it, or was stopped mid-turn, is a race
    // (the fake takes a unit per turn, each session on its own clock): the session that
    // triggered the swap has the limit record, and any limit record precedes the continuation.
    const working = new Map([['auto-1', 'Refactor the parser [turns=6]'], ['auto-2', 'Write the tests [turns=6]']]);
    type TranscriptRecord = { type?: string; isApiErrorMessage?: boolean; message?: { content?: unknown } };
    const records = (name: string) => (transcripts(sandbox).get(before.get(name) ?? '') ?? []).map((l) => JSON.parse(l) as TranscriptRecord);
    const isContinuation = (r: TranscriptRecord) => r.type === 'user' && r.message?.content === DEFAULT_RESUME_PROMPT;
    const isLimit = (r: TranscriptRecord) => r.isApiErrorMessage === true;
    // Continued: the continuation prompt, then an answer (not a limit) after it.
    const answeredAfterContinuation = (name: string) => {
      const r = records(name);
      const at = r.findIndex(isContinuation);
      return at >= 0 && r.slice(at + 1).some((x) => x.type === 'assistant' && !isLimit(x));
    };
    await waitFor(() => [...working.keys()].every(answeredAfterContinuation), { timeoutMs: 30_000, what: 'every working conversation continued, and answered, in its own transcript' });
    expect(userPrompts(transcripts(sandbox).get(before.get('web') ?? '') ?? [])).toEqual(['Say hello [turns=1]']);
    // No new conversation was started: the same files, and the working ones kept growing on B.
    expect([...transcripts(sandbox).keys()].sort()).toEqual(filesAtSwap);
    for (const [name, task] of working) {
      const r = records(name);
      const continuedAt = r.findIndex(isContinuation);
      expect(r.filter(isContinuation), name).toHaveLength(1);
      // Its own task was under way on A first; a limit it hit there comes before the continuation, none after.
      expect(userPrompts(transcripts(sandbox).get(before.get(name) ?? '')?.slice(0, continuedAt) ?? [])[0], name).toBe(task);
      const limitAt = r.findIndex(isLimit);
      if (limitAt >= 0) expect(continuedAt, name).toBeGreaterThan(limitAt);
      expect(r.slice(continuedAt).some(isLimit), name).toBe(false);
    }
    expect([...working.keys()].some((n) => records(n).some(isLimit))).toBe(true);
    expect((await sandbox.readQuota('B')).used).toBeGreaterThan(0);
    await waitFor(() => telegramTexts().filter((t) => t.includes('A → B')).length === 1, { what: 'one swap notification' });

    // (b) After A's reset (plus the margin) the pool returns to A, conversations intact.
    await waitFor(() => doneSwaps().length >= 2, { timeoutMs: 60_000, what: 'the return to A' });
    expect(doneSwaps()[1]?.to).toBe('A');
    // Not before A's reset plus the return margin.
    const returnSwap = (await d.status()).swaps[0];
    expect(returnSwap).toMatchObject({ from: 'B', to: 'A', result: 'done', trigger: 'return' });
    expect(new Date(returnSwap?.at ?? 0).getTime()).toBeGreaterThanOrEqual(resetsAt * 1000 + 500);
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
    expect(tmux(e2e.socket, 'display-message', '-p', '-t', 'ccl-0', '#{pane_pid} #{pane_dead}').trim()).toBe(`${outsidePid} 0`);
  });

  /** Breaks B so preparing it fails: a wrong shared link in a home nothing can write to. */
  function breakTarget(sandbox: Sandbox, name: string): string {
    const home = join(sandbox.config.home, `.claude-${name}`);
    const elsewhere = join(e2e.root, 'elsewhere');
    mkdirSync(elsewhere, { recursive: true });
    rmSync(join(home, 'projects'));
    symlinkSync(elsewhere, join(home, 'projects'));
    setImmutable(home, true);
    immutable.push(home);
    return home;
  }
  const immutable: string[] = [];
  afterEach(() => {
    for (const path of immutable.splice(0)) setImmutable(path, false);
  });

  const cli = async (sandbox: Sandbox, ...args: string[]) => {
    const run = await runCli(['--config', sandbox.configFile, ...args]);
    return { status: run.code, out: run.stdout + run.stderr };
  };

  it('cancels the swap and keeps A when the target cannot be prepared (rollback)', async () => {
    const sandbox = await start([
      { name: 'A', quota: { limit: 1000, turnMs: 100 } },
      { name: 'B', quota: { limit: 1000, turnMs: 100 } },
    ]);
    const d = e2e.daemon;
    await waitForIdlePool(d, ['auto-1', 'auto-2', 'web']);
    const before = new Map(d.store.listSessions().map((s) => [s.name, s.sessionId]));
    breakTarget(sandbox, 'B');
    const outcome = await d.requestSwitch({ trigger: 'manual', target: 'B' });
    expect(outcome).toMatchObject({ result: 'cancelled', from: 'A', to: 'B' });
    expect(readlinkSync(sandbox.config.link)).toBe(join(sandbox.config.home, '.claude-A'));
    const status = await d.status();
    expect(status.activeAccount).toBe('A');
    expect(status.swaps[0]).toMatchObject({ from: 'A', to: 'B', result: 'cancelled' });
    expect(status.swaps[0]?.reason).toMatch(/EPERM|projects/);
    expect(status.partialSwap.set).toBe(false);
    // The pool never moved: same conversations, same account.
    for (const s of status.sessions) {
      expect(s.account).toBe('A');
      expect(s.sessionId).toBe(before.get(s.name));
    }
    await waitFor(() => telegramTexts().some((t) => t.startsWith('Swap A → B cancelled')), { what: 'the cancel notification' });
  });

  it('flags a partial swap when flipping back fails too: later requests refused, /healthz 503, resolve clears only after repair', async () => {
    const sandbox: Sandbox = await start(
      [
        { name: 'A', quota: { limit: 1000, turnMs: 100 } },
        { name: 'B', quota: { limit: 1000, turnMs: 100 } },
      ],
      {},
      {
        onStep: (step) => {
          // The link has just been flipped to B; now nothing may write where the link lives.
          if (step === 'ensuring') {
            setImmutable(sandbox.config.home, true);
            immutable.push(sandbox.config.home);
          }
        },
      },
    );
    const d = e2e.daemon;
    await waitForIdlePool(d, ['auto-1', 'auto-2', 'web']);
    breakTarget(sandbox, 'B');
    const outcome = await d.requestSwitch({ trigger: 'manual', target: 'B' });
    expect(outcome.result).toBe('partial');
    expect(d.store.getFlag(PARTIAL_SWAP_FLAG)).toMatchObject({ set: true });
    expect(await d.requestSwitch({ trigger: 'manual', target: 'A' })).toMatchObject({ result: 'refused' });
    const health = await fetch(`${d.httpUrl ?? ''}/healthz`);
    expect(health.status).toBe(503);
    expect(JSON.stringify(await health.json())).toContain('partial swap');
    await waitFor(() => telegramTexts().filter((t) => t.startsWith('PARTIAL SWAP')).length === 1, { what: 'one alert' });
    await d.notifier.flush(2000);

    expect(telegramTexts().filter((t) => t.startsWith('PARTIAL SWAP'))).toHaveLength(1);
    // Not repaired yet: resolve refuses and the flag stays.
    const refused = await cli(sandbox, 'resolve');
    expect(refused.status).toBe(1);
    expect(refused.out).toContain('not repaired');
    expect(d.store.getFlag(PARTIAL_SWAP_FLAG).set).toBe(true);
    // The operator repairs: makes the dirs writable again and lets init fix the links.
    for (const path of immutable.splice(0)) setImmutable(path, false);
    expect((await cli(sandbox, 'init')).status).toBe(0);
    const resolved = await cli(sandbox, 'resolve');
    expect(resolved.status).toBe(0);
    expect(resolved.out).toContain('partial-swap flag cleared');
    expect(d.store.getFlag(PARTIAL_SWAP_FLAG).set).toBe(false);
    expect((await fetch(`${d.httpUrl ?? ''}/healthz`)).status).toBe(200);
    expect(await d.requestSwitch({ trigger: 'manual', target: 'A' })).toMatchObject({ result: 'done' });
  });

  it('with every account exhausted: no flip, one notification, a retry at the earliest reset', async () => {
    const now = Math.floor(Date.now() / 1000);
    const sandbox = await start(
      [
        { name: 'A', quota: { limit: 3, used: 0, resetsAt: now + 1800, windowSeconds: 18000, turnMs: 150 } },
        { name: 'B', quota: { limit: 0, used: 0, resetsAt: now + 3600, windowSeconds: 18000, turnMs: 150 } },
      ],
      { cooldownMs: 0 },
    );
    const d = e2e.daemon;
    await waitForIdlePool(d, ['auto-1', 'auto-2', 'web']);
    expect(await d.pool.sendPrompt('auto-1', 'Long task [turns=6]')).toBe(true);
    await waitFor(() => outcomes.some((o) => o.result === 'no-target'), { timeoutMs: 60_000, what: 'the no-target outcome' });
    expect(doneSwaps().map((o) => [o.from, o.to])).toEqual([['A', 'B']]);
    const noTarget = outcomes.find((o) => o.result === 'no-target');
    expect(noTarget?.result === 'no-target' && noTarget.retryAt?.getTime()).toBe((now + 1800) * 1000);
    expect(readlinkSync(sandbox.config.link)).toBe(join(sandbox.config.home, '.claude-B'));
    const status = await d.status();
    expect(status.activeAccount).toBe('B');
    expect(status.accounts.map((a) => [a.name, a.exhausted])).toEqual([['A', true], ['B', true]]);
    expect(status.scheduled).toContainEqual({ kind: 'retry', at: new Date((now + 1800) * 1000).toISOString() });
    expect(status.swaps[0]).toMatchObject({ result: 'no-target', from: 'B' });
    await waitFor(() => telegramTexts().some((t) => t.startsWith('Every account is exhausted')), { what: 'the notification' });
    // More limit reports change nothing and send nothing more.
    await d.requestSwitch({ trigger: 'limit', account: 'B' });
    await d.notifier.flush(2000);
    expect(telegramTexts().filter((t) => t.startsWith('Every account is exhausted'))).toHaveLength(1);
    const health = await fetch(`${d.httpUrl ?? ''}/healthz`);
    expect(health.status).toBe(503);
    expect(JSON.stringify(await health.json())).toContain('every account is exhausted');
  });

  it('keeps the last words of a session that dies at launch, says so once, and backs off instead of looping', async () => {
    const sandbox = await start([
      { name: 'A', quota: { limit: 1000, turnMs: 100, crashOnStart: 'error: your organization has disabled Claude Code' } },
      { name: 'B', quota: { limit: 1000, turnMs: 100 } },
    ]);
    const d = e2e.daemon;
    await waitFor(
      async () => {
        await d.tick();
        return d.store.getSession('web')?.state === 'dead';
      },
      { what: 'web marked dead' },
    );
    const dead = d.store.getSession('web');
    expect(dead?.lastError).toContain('your organization has disabled Claude Code');
    const restarts = dead?.restarts ?? -1;
    for (let i = 0; i < 20; i++) await d.tick();
    expect(d.store.getSession('web')?.restarts).toBe(restarts);
    const status = await d.status();
    expect(status.sessions.find((s) => s.name === 'web')).toMatchObject({ state: 'dead', lastError: expect.stringContaining('disabled') as unknown });
    await d.notifier.flush(2000);
    expect(telegramTexts().filter((t) => t.startsWith('Session web dies right after its launch'))).toHaveLength(1);
    // Once the cause is gone, the next attempt (after the backoff) brings it up.
    await sandbox.setQuota('A', { crashOnStart: undefined });
    await waitFor(
      async () => {
        await d.tick();
        return d.store.getSession('web')?.state === 'idle';
      },
      { timeoutMs: 30_000, what: 'web up after the backoff' },
    );
  });
});
