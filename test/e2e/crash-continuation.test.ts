import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/sqlite-store.js';
import type { JournalSnapshot, RelaunchPlan } from '../../src/switcher/swap.js';
import { waitFor } from '../helpers/wait-for.js';
import { transcripts, userPrompts, waitForIdlePool } from '../helpers/e2e.js';
import { useE2e } from '../helpers/e2e-fixture.js';

const INTERRUPTED = '[Request interrupted by user]';

/**
 * A crash after the relaunch had continued a conversation, before the swap was committed:
 * the journal is left at "relaunching" while the conversation already works on the target.
 * The restart must finish the swap without a second continuation and without interrupting
 * the one under way (the stop's findings are gone from the registry: the plan journaled
 * with the step says which conversations were cut off, the transcript whether it landed).
 */
describe('recovery of a swap interrupted during its relaunch (real tmux, fake Claude Code)', () => {
  const e2e = useE2e('cf-crash-cont');

  it('leaves a conversation continued before the crash working: one continuation, not interrupted, swap committed', async () => {
    const sandbox = await e2e.sandbox({
      accounts: [
        { name: 'A', quota: { limit: 2, used: 0, windowSeconds: 3600, turnMs: 100 } },
        // The continuation's answer takes 6 s on B: it is still under way when the daemon restarts.
        { name: 'B', quota: { limit: 1000, used: 0, windowSeconds: 18000, turnMs: 6000 } },
      ],
      dedicated: ['web'],
      monitor: { returnMarginMs: 600_000 },
    });
    let relaunchingAt = new Date(0);
    let snapshot: JournalSnapshot | null = null;
    let plan: RelaunchPlan | null = null;
    const first = await e2e.startDaemon(sandbox, {
      onStep: (step, journalId) => {
        if (step !== 'relaunching') return;
        relaunchingAt = new Date();
        const journal = first.store.unfinishedJournal();
        snapshot = journal?.snapshot as JournalSnapshot;
        plan = journal?.steps.at(-1)?.data as RelaunchPlan;
        expect(journal?.id).toBe(journalId);
      },
    });
    await waitForIdlePool(first, ['web']);
    const id = first.store.getSession('web')?.sessionId ?? '';
    // Turn 1 is answered on A, turn 2 meets A's limit: the swap to B continues the conversation.
    expect(await first.pool.sendPrompt('web', 'Refactor the parser [turns=3]')).toBe(true);
    await waitFor(() => e2e.doneSwaps().length === 1, { timeoutMs: 60_000, what: 'the swap to B' });
    expect(plan).toEqual({ continue: ['web'] });
    const prompts = () => userPrompts(transcripts(sandbox).get(id) ?? []);
    const continuations = () => prompts().filter((p) => p === sandbox.config.claude.resumePrompt).length;
    expect(continuations()).toBe(1);
    await first.stop();

    // The state a SIGKILL between the continuation and the commit leaves: the journal at
    // "relaunching" (stamped when it was), the active account not yet committed.
    const at = relaunchingAt;
    const store = openStore(sandbox.config.stateDir, { now: () => at });
    const journalId = store.openJournal({ from: 'A', to: 'B', trigger: 'limit', snapshot });
    for (const step of ['saved', 'flipping', 'ensuring', 'stopping']) store.journalStep(journalId, step);
    store.journalStep(journalId, 'relaunching', plan);
    store.setActiveAccount('A');
    store.close();

    const second = await e2e.startDaemon(sandbox);
    expect(second.store.unfinishedJournal()).toBeNull();
    expect(second.store.getActiveAccount()).toBe('B');
    // The continuation under way finishes its answer; nothing interrupted it, nothing typed it again.
    await waitFor(() => (transcripts(sandbox).get(id) ?? []).some((l) => l.includes('Step 1 of 1 done')), { timeoutMs: 30_000, what: "the continuation's answer" });
    await waitForIdlePool(second, ['web']);
    expect(continuations()).toBe(1);
    expect(prompts().filter((p) => p.startsWith(INTERRUPTED))).toEqual([]);
    expect(second.store.getSession('web')).toMatchObject({ account: 'B', sessionId: id });
    // The recovered swap is committed as the one swap it was (the first daemon's record, and the recovery's).
    expect(second.store.listSwaps(5).map((s) => [s.from, s.to, s.result])).toEqual([['A', 'B', 'done'], ['A', 'B', 'done']]);
  });
});
