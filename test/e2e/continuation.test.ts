import { chmodSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SandboxAccount } from '../../src/demo/sandbox.js';
import { openStore } from '../../src/store/sqlite-store.js';
import { createAccountLayout } from '../../src/accounts/layout.js';
import { DEFAULT_RESUME_PROMPT } from '../../src/config/schema.js';
import { RETRY_JOB } from '../../src/switcher/types.js';
import { shellQuote } from '../../src/claude/shell-quote.js';
import { testLogger } from '../helpers/test-logger.js';
import { waitFor } from '../helpers/wait-for.js';
import { tmux, transcripts, userPrompts, waitForIdlePool } from '../helpers/e2e.js';
import { useE2e } from '../helpers/e2e-fixture.js';

/** What the continuation must prove: decided from the transcript after the stop, confirmed by Claude Code, reported when lost. */
describe('the continuation after a swap (real tmux, fake Claude Code)', () => {
  const e2e = useE2e('cf-cont', { telegram: true });
  const { outcomes, doneSwaps } = e2e;

  const sandboxOf = (accounts: SandboxAccount[]) => e2e.sandbox({ accounts, dedicated: ['web', 'api'], monitor: { returnMarginMs: 600_000 } });
  const limitRecords = (lines: readonly string[]) => lines.filter((l) => (JSON.parse(l) as { error?: string }).error === 'rate_limit').length;

  it('continues a session that started a request after the pool was saved, decided from its transcript once stopped', async () => {
    const sandbox = await sandboxOf([
      { name: 'A', quota: { limit: 3, used: 0, windowSeconds: 3600, turnMs: 200 } },
      { name: 'B', quota: { limit: 1000, used: 0, windowSeconds: 18000, turnMs: 200 } },
    ]);
    let injected = false;
    const d = await e2e.startDaemon(sandbox, {
      // Right after the pool is saved (api idle in that snapshot), api sends a prompt on A and hits A's limit too.
      onStep: async (step) => {
        if (step !== 'saved' || injected) return;
        injected = true;
        const apiId = e2e.daemon.store.getSession('api')?.sessionId ?? '';
        tmux(e2e.socket, 'send-keys', '-t', '=api:', '-l', 'A late question [turns=1]');
        tmux(e2e.socket, 'send-keys', '-t', '=api:', 'Enter');
        await waitFor(() => limitRecords(transcripts(sandbox).get(apiId) ?? []) === 1, { what: "api's limit record on A" });
      },
    });
    await waitForIdlePool(d, ['web', 'api']);
    const ids = { web: d.store.getSession('web')?.sessionId ?? '', api: d.store.getSession('api')?.sessionId ?? '' };
    expect(await d.pool.sendPrompt('web', 'Long task [turns=6]')).toBe(true);

    await waitFor(() => doneSwaps().length === 1, { timeoutMs: 60_000, what: 'the swap to B' });
    expect(injected).toBe(true);
    const swap = doneSwaps()[0];
    for (const name of ['web', 'api'] as const) {
      expect(swap?.sessions.find((s) => s.name === name)).toMatchObject({ ok: true, continuation: 'delivered', prompted: true, sessionId: ids[name] });
    }
    await waitFor(() => ['web', 'api'].every((n) => userPrompts(transcripts(sandbox).get(ids[n as 'web' | 'api']) ?? []).includes(DEFAULT_RESUME_PROMPT)), {
      what: 'both conversations continued on B',
    });
    // The continuation is typed once per session: Claude Code confirmed the first.
    for (const id of Object.values(ids)) expect(userPrompts(transcripts(sandbox).get(id) ?? []).filter((p) => p === DEFAULT_RESUME_PROMPT)).toHaveLength(1);
  });

  it('does not prompt a session whose conversation was answered', async () => {
    const sandbox = await sandboxOf([
      { name: 'A', quota: { limit: 3, used: 0, windowSeconds: 3600, turnMs: 200 } },
      { name: 'B', quota: { limit: 1000, used: 0, windowSeconds: 18000, turnMs: 200 } },
    ]);
    const d = await e2e.startDaemon(sandbox);
    await waitForIdlePool(d, ['web', 'api']);
    const apiId = d.store.getSession('api')?.sessionId ?? '';
    expect(await d.pool.sendPrompt('api', 'Say hi [turns=1]')).toBe(true);
    await waitFor(() => d.store.getSession('api')?.state === 'idle' && userPrompts(transcripts(sandbox).get(apiId) ?? []).length === 1, { what: 'api answered' });
    expect(await d.pool.sendPrompt('web', 'Long task [turns=6]')).toBe(true);
    await waitFor(() => doneSwaps().length === 1, { timeoutMs: 60_000, what: 'the swap to B' });
    expect(doneSwaps()[0]?.sessions.find((s) => s.name === 'api')).toMatchObject({ ok: true, continuation: 'not-needed', prompted: false });
    expect(userPrompts(transcripts(sandbox).get(apiId) ?? [])).toEqual(['Say hi [turns=1]']);
  });

  it('reports a continuation that never lands: in the outcome, the session status and a notification', async () => {
    const sandbox = await sandboxOf([
      { name: 'A', quota: { limit: 2, used: 0, windowSeconds: 3600, turnMs: 200 } },
      { name: 'B', quota: { limit: 1000, used: 0, windowSeconds: 18000, turnMs: 200 } },
    ]);
    // Under B, "Claude Code" draws an idle prompt and never reads a key: every prompt typed is lost.
    const deaf = join(e2e.root, 'claude-deaf-on-B');
    const idleScreen = resolve('test/fixtures/screens/idle.txt');
    writeFileSync(
      deaf,
      `#!/bin/sh\nif [ "$CLAUDE_CONFIG_DIR" = ${shellQuote(join(sandbox.config.home, '.claude-B'))} ]; then stty -echo; cat ${shellQuote(idleScreen)}; exec sleep 100000; fi\nexec ${shellQuote(sandbox.fakeClaude)} "$@"\n`,
    );
    chmodSync(deaf, 0o755);
    const config = { ...sandbox.config, claude: { ...sandbox.config.claude, command: deaf } };
    const d = await e2e.startDaemon({ ...sandbox, config });
    await waitForIdlePool(d, ['web', 'api']);
    expect(await d.pool.sendPrompt('web', 'Long task [turns=6]')).toBe(true);
    await waitFor(() => doneSwaps().length === 1, { timeoutMs: 90_000, what: 'the swap to B' });
    const web = doneSwaps()[0]?.sessions.find((s) => s.name === 'web');
    expect(web).toMatchObject({ ok: false, continuation: 'not-delivered', prompted: false });
    expect(doneSwaps()[0]?.sessions.find((s) => s.name === 'api')).toMatchObject({ ok: true, continuation: 'not-needed' });
    const status = await d.status();
    expect(status.sessions.find((s) => s.name === 'web')?.lastError).toMatch(/continuation prompt was not delivered/);
    const sent = await waitFor(() => {
      const texts = e2e.telegramTexts();
      return texts.some((t) => t.includes('continuation prompt never reached web')) && texts.some((t) => t.includes('1/2 session(s) moved; NOT CONTINUED: web')) && texts;
    }, { what: 'the lost continuation told in the swap summary and its own notification' });
    expect(sent.filter((t) => t.includes('never reached'))).toHaveLength(1);
  });

  it('acts on a limit hit while the daemon was down: the transcript ends on it, so the pool is moved at start', async () => {
    const sandbox = await sandboxOf([
      { name: 'A', quota: { limit: 2, used: 0, resetsAt: Math.floor(Date.now() / 1000) + 3600, windowSeconds: 3600, turnMs: 200 } },
      { name: 'B', quota: { limit: 1000, used: 0, windowSeconds: 18000, turnMs: 200 } },
    ]);
    // First daemon: deaf to every limit signal, as if it were not running when the limit hit.
    const first = await e2e.startDaemon(sandbox, { sources: new Set() });
    await waitForIdlePool(first, ['web', 'api']);
    const webId = first.store.getSession('web')?.sessionId ?? '';
    expect(await first.pool.sendPrompt('web', 'Long task [turns=6]')).toBe(true);
    await waitFor(() => limitRecords(transcripts(sandbox).get(webId) ?? []) === 1, { what: "web's limit record on A" });
    await first.stop();
    expect(outcomes).toEqual([]);

    const d = await e2e.startDaemon(sandbox);
    await waitFor(() => doneSwaps().length === 1, { timeoutMs: 60_000, what: 'the swap to B at start' });
    expect(doneSwaps()[0]).toMatchObject({ from: 'A', to: 'B' });
    expect(doneSwaps()[0]?.sessions.find((s) => s.name === 'web')).toMatchObject({ continuation: 'delivered' });
    expect((await d.status()).accounts.find((a) => a.name === 'A')).toMatchObject({ exhausted: true, resetGuessed: false });
  });

  it('moves a pool that starts on an account its ledger already says is exhausted', async () => {
    const sandbox = await sandboxOf([
      { name: 'A', quota: { limit: 1000, used: 0, windowSeconds: 3600, turnMs: 200 } },
      { name: 'B', quota: { limit: 1000, used: 0, windowSeconds: 18000, turnMs: 200 } },
    ]);
    const store = openStore(sandbox.config.stateDir);
    store.setActiveAccount('A');
    store.markExhausted('A', { kind: 'five_hour', resetsAt: new Date(Date.now() + 3600_000), resetGuessed: false, source: 'hook:epoch', detectedAt: new Date() });
    store.close();
    const d = await e2e.startDaemon(sandbox);
    await waitFor(() => doneSwaps().length === 1, { timeoutMs: 60_000, what: 'the swap away from the exhausted account' });
    expect(doneSwaps()[0]).toMatchObject({ from: 'A', to: 'B' });
    expect((await d.status()).swaps[0]).toMatchObject({ from: 'A', to: 'B', trigger: 'limit' });
    expect((await d.status()).activeAccount).toBe('B');
  });

  it('after a cancelled swap off an exhausted account, schedules one retry instead of giving up or looping', async () => {
    const sandbox = await sandboxOf([
      { name: 'A', quota: { limit: 2, used: 0, windowSeconds: 3600, turnMs: 200 } },
      { name: 'B', quota: { limit: 1000, used: 0, windowSeconds: 18000, turnMs: 200 } },
    ]);
    const real = createAccountLayout(sandbox.config, testLogger());
    let faults = 1;
    const layout = {
      ...real,
      linkedAccount: () => real.linkedAccount(),
      flipLink: (a: Parameters<typeof real.flipLink>[0]) => real.flipLink(a),
      prepareTarget: async (a: Parameters<typeof real.prepareTarget>[0]) => {
        if (faults-- > 0) throw new Error('EPERM: the target home is not writable (injected)');
        await real.prepareTarget(a);
      },
    };
    const d = await e2e.startDaemon(sandbox, { layout });
    await waitForIdlePool(d, ['web', 'api']);
    expect(await d.pool.sendPrompt('web', 'Long task [turns=6]')).toBe(true);
    await waitFor(() => outcomes.some((o) => o.result === 'cancelled'), { timeoutMs: 60_000, what: 'the cancelled swap' });
    const retry = await waitFor(() => d.store.listJobs().find((j) => j.key === RETRY_JOB), { what: 'a scheduled retry' });
    expect(retry.runAt.getTime()).toBeGreaterThan(Date.now() + 30_000);
    // Several reconcile passes later: still one cancelled swap, no loop.
    for (let i = 0; i < 4; i++) await d.tick();
    expect(outcomes.filter((o) => o.result === 'cancelled')).toHaveLength(1);
    // The retry, when it comes, moves the pool.
    const outcome = await d.requestSwitch({ trigger: 'retry', account: 'A', reason: 'scheduled retry' });
    expect(outcome).toMatchObject({ result: 'done', to: 'B' });
  });

  it("closes the rate-limit menu Claude Code 2.0.x reopens over a resumed conversation's old limit: the continuation is delivered once, and a session moved with nothing to continue is left at its prompt", async () => {
    // reopenLimitMenu: on --resume of a history with a limit message, the menu opens (here 1.5 s
    // after start-up, once the continuation has been answered: as 2.0.77 does when it was busy)
    // and takes every key until Escape (Enter would pick "Stop and wait"). The menu
    // opening before the continuation is typed is deliver-prompt.test.ts's case.
    const sandbox = await e2e.sandbox({
      accounts: [
        { name: 'A', quota: { limit: 2, used: 0, windowSeconds: 3600, turnMs: 200 } },
        { name: 'B', quota: { limit: 1000, used: 0, windowSeconds: 18000, turnMs: 200, reopenLimitMenu: 1500 } },
        { name: 'C', quota: { limit: 1000, used: 0, windowSeconds: 18000, turnMs: 200, reopenLimitMenu: 1500 } },
      ],
      dedicated: ['web'],
      monitor: { returnMarginMs: 600_000 },
    });
    const d = await e2e.startDaemon(sandbox);
    await waitForIdlePool(d, ['web']);
    const id = d.store.getSession('web')?.sessionId ?? '';
    expect(await d.pool.sendPrompt('web', 'Long task [turns=4]')).toBe(true);

    await waitFor(() => doneSwaps().length === 1, { timeoutMs: 60_000, what: 'the swap off A' });
    const moved = doneSwaps()[0];
    expect(moved?.sessions.find((s) => s.name === 'web')).toMatchObject({ ok: true, continuation: 'delivered', sessionId: id });
    await waitFor(() => userPrompts(transcripts(sandbox).get(id) ?? []).includes(DEFAULT_RESUME_PROMPT), { what: 'the continuation after the swap' });
    const screen = () => tmux(e2e.socket, 'capture-pane', '-p', '-t', '=web:');
    // Opened after the session worked on this account, over the old limit: not a new limit, closed.
    await waitFor(() => screen().includes('/rate-limit-options'), { what: 'the menu reopened after the continuation' });
    await waitFor(() => !screen().includes('What do you want to do?'), { what: 'the menu closed' });
    await waitForIdlePool(d, ['web']);
    expect(doneSwaps()).toHaveLength(1);
    expect(d.store.getLedgerEntry(moved?.to ?? '')?.exhausted ?? false).toBe(false);

    // Nothing to continue: the menu reopened on the next account is closed by the daemon, not left holding the keyboard.
    const next = moved?.to === 'B' ? 'C' : 'B';
    const manual = await d.requestSwitch({ trigger: 'manual', target: next, reason: 'test' });
    expect(manual, JSON.stringify({ manual, swaps: d.store.listSwaps(5) })).toMatchObject({ result: 'done', to: next });
    await waitFor(() => screen().includes('/rate-limit-options'), { what: 'the menu reopened after the manual switch' });
    await waitFor(() => !screen().includes('What do you want to do?'), { what: 'the menu closed again' });
    await waitForIdlePool(d, ['web']);
    expect(await d.pool.sendPrompt('web', 'After the manual switch')).toBe(true);
    await waitFor(() => userPrompts(transcripts(sandbox).get(id) ?? []).includes('After the manual switch'), { what: 'the prompt after the manual switch' });
    const prompts = userPrompts(transcripts(sandbox).get(id) ?? []);
    expect(prompts.filter((p) => p === DEFAULT_RESUME_PROMPT)).toHaveLength(1);
    expect(prompts.filter((p) => p === 'After the manual switch')).toHaveLength(1);
  });
});
