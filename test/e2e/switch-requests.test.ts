import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Daemon, DaemonOptions } from '../../src/daemon.js';
import type { Sandbox } from '../../src/demo/sandbox.js';
import { RETRY_JOB, RETURN_JOB, type SwitchOutcome } from '../../src/switcher/types.js';
import { setImmutable, waitForIdlePool } from '../helpers/e2e.js';
import { useE2e } from '../helpers/e2e-fixture.js';

/** How the switcher answers each kind of request, on a real pool (one session, three accounts). */
describe('switch requests end to end: cooldown, limits elsewhere, best target, faults mid-swap, lost returns', () => {
  const e2e = useE2e('cf-switch');
  let sandbox: Sandbox;

  async function start(monitor: Record<string, unknown> = {}, options: Partial<DaemonOptions> = {}): Promise<Daemon> {
    sandbox = await e2e.sandbox({
      accounts: [
        { name: 'A', quota: { limit: 1000, turnMs: 100 } },
        { name: 'B', quota: { limit: 1000, turnMs: 100 } },
        { name: 'C', quota: { limit: 1000, turnMs: 100 } },
      ],
      autonomous: { min: 1, max: 1 },
      monitor: { returnMarginMs: 1000, ...monitor },
    });
    const d = await e2e.startDaemon(sandbox, options);
    await waitForIdlePool(d, ['auto-1']);
    return d;
  }

  const limitOn = (d: Daemon, account: string, inMs: number) => {
    d.store.markExhausted(account, { kind: 'five_hour', resetsAt: new Date(Date.now() + inMs), resetGuessed: false, source: 'hook:epoch', detectedAt: new Date() });
  };

  it('defers a limit swap during the cooldown and schedules the retry at its end', async () => {
    const d = await start({ cooldownMs: 600_000 });
    const first = await d.requestSwitch({ trigger: 'manual', target: 'B', reason: 'test' });
    expect(first).toMatchObject({ result: 'done', from: 'A', to: 'B' });
    limitOn(d, 'B', 3600_000);
    const second = await d.requestSwitch({ trigger: 'limit', account: 'B', reason: 'test' });
    expect(second.result).toBe('deferred');
    const lastSwapAt = d.store.listSwaps(1)[0]?.at.getTime() ?? 0;
    expect(second.result === 'deferred' && second.until.getTime()).toBe(lastSwapAt + 600_000);
    expect(d.store.listJobs().find((j) => j.key === RETRY_JOB)?.runAt.getTime()).toBe(lastSwapAt + 600_000);
    expect(d.store.getActiveAccount()).toBe('B');
  });

  it('only updates the ledger for a limit on an account the pool is not on', async () => {
    const d = await start();
    limitOn(d, 'C', 3600_000);
    const outcome = await d.requestSwitch({ trigger: 'limit', account: 'C', reason: 'test' });
    expect(outcome.result).toBe('skipped');
    expect(d.store.getActiveAccount()).toBe('A');
    expect(d.store.listSwaps(5)).toEqual([]);
    expect(d.store.getLedgerEntry('C')?.exhausted).toBe(true);
  });

  it('moves a manual switch without an account to the best one available, skipping an exhausted one', async () => {
    const d = await start();
    limitOn(d, 'B', 3600_000);
    const outcome = await d.requestSwitch({ trigger: 'manual', target: null, reason: 'test' });
    expect(outcome).toMatchObject({ result: 'done', from: 'A', to: 'C' });
    expect(readlinkSync(sandbox.config.link)).toBe(join(sandbox.config.home, '.claude-C'));
    expect(await d.requestSwitch({ trigger: 'manual', target: 'nosuch', reason: 'test' })).toMatchObject({ result: 'refused', reason: expect.stringContaining('no account named "nosuch"') as unknown });
  });

  it('answers a manual switch with every other account exhausted by staying put, with no "every account is exhausted" record or alert', async () => {
    const d = await start();
    limitOn(d, 'B', 3600_000);
    limitOn(d, 'C', 3600_000);
    const outcome = await d.requestSwitch({ trigger: 'manual', target: null, reason: 'test' });
    expect(outcome).toMatchObject({ result: 'skipped', reason: expect.stringContaining('staying on A') as unknown });
    expect(d.store.listSwaps(5)).toEqual([]);
    expect(d.store.listJobs().some((j) => j.key === RETRY_JOB)).toBe(false);
    expect(d.store.getActiveAccount()).toBe('A');
  });

  it('cancels a swap to a home that cannot be written (immutable, its shared links already right) before anything moves', async () => {
    const d = await start();
    const home = join(sandbox.config.home, '.claude-B');
    const sessionId = d.store.getSession('auto-1')?.sessionId;
    setImmutable(home, true);
    try {
      const outcome = await d.requestSwitch({ trigger: 'manual', target: 'B', reason: 'test' });
      expect(outcome).toMatchObject({ result: 'cancelled', to: 'B', reason: expect.stringContaining('not writable') as unknown });
    } finally {
      setImmutable(home, false);
    }
    expect(d.store.getActiveAccount()).toBe('A');
    expect(readlinkSync(sandbox.config.link)).toBe(join(sandbox.config.home, '.claude-A'));
    expect(d.store.getSession('auto-1')).toMatchObject({ account: 'A', sessionId });
    expect(d.store.listSwaps(5).map((s) => s.result)).toEqual(['cancelled']);
  });

  it('repairs a swap that faults part-way from its journal, at once, without a restart', async () => {
    let faults = 0;
    const d = await start({}, {
      onStep: (step) => {
        if (step === 'relaunching' && faults++ === 0) throw new Error('tmux timed out (injected)');
      },
    });
    const sessionId = d.store.getSession('auto-1')?.sessionId;
    const outcome: SwitchOutcome = await d.requestSwitch({ trigger: 'manual', target: 'B', reason: 'test' });
    // The repair finished the swap: it is reported done (switch exits 0, HTTP 200, counted in metrics), not refused.
    expect(outcome).toMatchObject({ result: 'done', from: 'A', to: 'B' });
    expect(d.store.unfinishedJournal()).toBeNull();
    expect(d.store.getActiveAccount()).toBe('B');
    expect(readlinkSync(sandbox.config.link)).toBe(join(sandbox.config.home, '.claude-B'));
    expect(d.store.listSwaps(1)[0]).toMatchObject({ from: 'A', to: 'B', result: 'done' });
    await waitForIdlePool(d, ['auto-1']);
    expect(d.store.getSession('auto-1')).toMatchObject({ account: 'B', sessionId });
    // The daemon goes on taking requests.
    expect(await d.requestSwitch({ trigger: 'manual', target: 'A', reason: 'test' })).toMatchObject({ result: 'done', to: 'A' });
  });

  it('schedules the return again at start when the pool is away from the preferred account with none scheduled', async () => {
    const d = await start();
    limitOn(d, 'A', 3600_000);
    expect(await d.requestSwitch({ trigger: 'limit', account: 'A', reason: 'test' })).toMatchObject({ result: 'done', to: 'B' });
    const scheduled = d.store.listJobs().find((j) => j.key === RETURN_JOB)?.runAt.getTime();
    expect(scheduled).toBe((d.store.getLedgerEntry('A')?.resetsAt?.getTime() ?? 0) + 1000);
    // A crash lost the job (it was deleted before its request ran, say).
    d.store.deleteJob(RETURN_JOB);
    await d.stop();
    const restarted = await e2e.startDaemon(sandbox);
    expect(restarted.store.listJobs().find((j) => j.key === RETURN_JOB)?.runAt.getTime()).toBe(scheduled);
  });
});
