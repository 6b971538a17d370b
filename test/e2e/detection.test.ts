import { describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon.js';
import type { Sandbox, SandboxAccount } from '../../src/demo/sandbox.js';
import type { LimitSource } from '../../src/monitor/limit-event.js';
import { DEFAULT_RESUME_PROMPT } from '../../src/config/schema.js';
import { waitFor } from '../helpers/wait-for.js';
import { tmux, transcripts, userPrompts, waitForIdlePool } from '../helpers/e2e.js';
import { useE2e } from '../helpers/e2e-fixture.js';

interface TranscriptRecord {
  readonly type?: string;
  readonly isApiErrorMessage?: boolean;
  readonly message?: { readonly content?: unknown };
}

const records = (lines: readonly string[]) => lines.map((l) => JSON.parse(l) as TranscriptRecord);
const limitRecords = (lines: readonly string[]) => records(lines).filter((r) => r.isApiErrorMessage === true);
const assistantTexts = (lines: readonly string[]) =>
  records(lines)
    .filter((r) => r.type === 'assistant' && Array.isArray(r.message?.content))
    .map((r) => (r.message?.content as { text?: string }[]).map((c) => c.text ?? '').join(''));

describe('detection end to end: each signal on its own, the proactive switch, warnings (real tmux, fake Claude Code)', () => {
  const e2e = useE2e('cf-detect');
  const { outcomes, doneSwaps } = e2e;

  async function start(accounts: SandboxAccount[], monitor: Record<string, unknown>, sources?: ReadonlySet<LimitSource>): Promise<{ d: Daemon; sandbox: Sandbox }> {
    const sandbox = await e2e.sandbox({ accounts, autonomous: { min: 1, max: 1 }, monitor: { returnMarginMs: 600_000, ...monitor } });
    const d = await e2e.startDaemon(sandbox, sources ? { sources } : {});
    await waitForIdlePool(d, ['auto-1']);
    return { d, sandbox };
  }

  it.each<LimitSource>(['hook', 'transcript', 'screen'])('switches on the %s signal alone, with the reset it carries', async (source) => {
    const resetsAt = Math.floor(Date.now() / 1000) + 3 * 3600 + 17 * 60;
    const { d, sandbox } = await start(
      [
        { name: 'A', quota: { limit: 2, used: 0, resetsAt, windowSeconds: 18000, turnMs: 150 } },
        { name: 'B', quota: { limit: 1000, windowSeconds: 18000, turnMs: 150 } },
      ],
      {},
      new Set([source]),
    );
    const sessionId = d.store.getSession('auto-1')?.sessionId;
    expect(await d.pool.sendPrompt('auto-1', 'A task longer than the quota [turns=4]')).toBe(true);

    await waitFor(() => doneSwaps().length >= 1, { timeoutMs: 45_000, what: `the swap on the ${source} signal` });
    expect(doneSwaps()[0]).toMatchObject({ from: 'A', to: 'B' });
    const ledger = d.store.getLedgerEntry('A');
    expect(ledger?.exhausted).toBe(true);
    expect(ledger?.source?.split(':')[0]).toBe(source);
    const reset = ledger?.resetsAt?.getTime() ?? 0;
    if (source === 'screen') {
      // The banner says "resets 1:23am (UTC)": minute precision, taken as the end of that minute
      // (the earliest moment the account is sure to be back), so never before the real reset.
      expect(reset).toBeGreaterThan(resetsAt * 1000);
      expect(reset).toBeLessThanOrEqual(resetsAt * 1000 + 60_000);
      expect(ledger?.source).toBe('screen:text');
    } else {
      // The hook carries no reset; the daemon reads it from the transcript's limit record.
      expect(reset).toBe(resetsAt * 1000);
      expect(ledger?.source).toBe(`${source}:epoch`);
    }
    // The conversation went on under B, in the same transcript.
    await waitFor(() => userPrompts(transcripts(sandbox).get(sessionId ?? '') ?? []).includes(DEFAULT_RESUME_PROMPT), { timeoutMs: 30_000, what: 'the continuation prompt on B' });
    expect(d.store.getSession('auto-1')).toMatchObject({ account: 'B', sessionId });
  });

  it('switches before the limit when usage crosses monitor.proactivePercent, waiting for the answer in progress to finish', async () => {
    const { d, sandbox } = await start(
      [
        { name: 'A', quota: { limit: 10, used: 0, windowSeconds: 18000, turnMs: 400, warnPercent: 100 } },
        { name: 'B', quota: { limit: 1000, windowSeconds: 18000, turnMs: 150 } },
      ],
      { proactivePercent: 50, proactiveGraceMs: 60_000 },
      // The statusline alone: no limit is ever hit, so no other signal could move the pool.
      new Set<LimitSource>(['statusline']),
    );
    const sessionId = d.store.getSession('auto-1')?.sessionId ?? '';
    expect(await d.pool.sendPrompt('auto-1', 'Eight steps [turns=8]')).toBe(true);

    await waitFor(() => doneSwaps().length >= 1, { timeoutMs: 45_000, what: 'the proactive swap' });
    expect(doneSwaps()[0]).toMatchObject({ from: 'A', to: 'B' });
    expect(d.store.listSwaps(1)[0]).toMatchObject({ result: 'done', trigger: 'proactive' });
    // Usage crossed 50% after step 5, mid-answer; the swap waited for step 8, the end of the answer.
    const lines = transcripts(sandbox).get(sessionId) ?? [];
    expect(assistantTexts(lines)).toContain('Step 8 of 8 done.');
    expect(limitRecords(lines)).toEqual([]);
    expect((await sandbox.readQuota('A')).used).toBe(8);
    // Idle when it moved, so it was resumed quietly: no continuation prompt was needed.
    expect(userPrompts(lines)).toEqual(['Eight steps [turns=8]']);
    expect(d.store.getSession('auto-1')).toMatchObject({ account: 'B', sessionId });
    // A is not exhausted, only near its limit: the ledger keeps its usage, and the return waits for its window.
    const ledger = d.store.getLedgerEntry('A');
    expect(ledger).toMatchObject({ exhausted: false, usagePercent: 80 }); // its last reading: 8 of 10
    const status = await d.status();
    expect(status.scheduled.find((j) => j.kind === 'return')?.at).toBe(new Date((ledger?.usageResetsAt?.getTime() ?? 0) + 600_000).toISOString());
  });

  it('never switches on a usage warning', async () => {
    const { d, sandbox } = await start(
      [
        { name: 'A', quota: { limit: 10, used: 0, windowSeconds: 18000, turnMs: 150, warnPercent: 50 } },
        { name: 'B', quota: { limit: 1000, windowSeconds: 18000, turnMs: 150 } },
      ],
      {},
    );
    const sessionId = d.store.getSession('auto-1')?.sessionId ?? '';
    expect(await d.pool.sendPrompt('auto-1', 'Six steps [turns=6]')).toBe(true);
    await waitFor(() => assistantTexts(transcripts(sandbox).get(sessionId) ?? []).includes('Step 6 of 6 done.'), { what: 'the task done' });
    await waitFor(() => tmux(e2e.socket, 'capture-pane', '-p', '-t', 'auto-1').includes("You've used 60% of your 5-hour limit"), { what: 'the warning on screen' });
    // The Stop hook comes after the last step is written: the answer is over once it has.
    await waitFor(() => d.store.getSession('auto-1')?.state === 'idle', { what: 'the Stop hook' });
    // Every signal has had its chance: several screen polls with the warning at the bottom.
    for (let i = 0; i < 5; i++) await d.tick();
    await d.switcher.idle();
    expect(outcomes).toEqual([]);
    expect(d.store.getLedgerEntry('A')?.exhausted ?? false).toBe(false);
    expect(d.store.getActiveAccount()).toBe('A');
    expect(d.store.getSession('auto-1')?.state).toBe('idle');
  });
});
