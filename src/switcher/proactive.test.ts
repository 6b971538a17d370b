import { describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { ProactiveSwitch, proactiveReason } from './proactive.js';

describe('ProactiveSwitch', () => {
  it('stop() ends a grace wait in progress and resolves after it: nothing reads the store once the daemon closes it', async () => {
    let closed = false;
    let readsAfterClose = 0;
    const requested: string[] = [];
    // Each wait between two looks is held until the test lets it go.
    const waits: (() => void)[] = [];
    const proactive = new ProactiveSwitch({
      busy: () => {
        if (closed) readsAfterClose++;
        return true; // a session keeps working: the grace (two minutes) would run on
      },
      graceMs: 120_000,
      thresholdPercent: 95,
      now: () => new Date(),
      sleep: () => new Promise<void>((resolve) => waits.push(resolve)),
      logger: silentLogger(),
      request: (account) => {
        requested.push(account);
        return Promise.resolve();
      },
    });
    proactive.trigger('work', 97);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(waits).toHaveLength(1);
    const stopping = proactive.stop();
    waits.shift()?.();
    await stopping;
    closed = true;
    // Whatever was still pending has ended: releasing more waits reads nothing.
    for (const release of waits.splice(0)) release();
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(readsAfterClose).toBe(0);
    expect(requested).toEqual([]);
    // A stopped switch takes no new trigger.
    proactive.trigger('work', 99);
    expect(waits).toHaveLength(0);
  });

  it('asks for the swap at the first quiet moment, once per wait', async () => {
    let looks = 0;
    const requested: string[] = [];
    const proactive = new ProactiveSwitch({
      busy: () => ++looks < 3, // working for two looks, then quiet
      graceMs: 120_000,
      thresholdPercent: 95,
      now: () => new Date(),
      sleep: () => Promise.resolve(),
      logger: silentLogger(),
      request: (account, reason) => {
        requested.push(`${account}: ${reason}`);
        return Promise.resolve();
      },
    });
    proactive.trigger('work', 97);
    proactive.trigger('work', 98); // joins the wait in progress
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    expect(requested).toEqual(['work: usage at 97% (monitor.proactivePercent 95%)']);
    expect(looks).toBe(3);
  });
});

describe('the proactive switch\'s reason', () => {
  it('names the forecast when that is what fired, the threshold otherwise', async () => {
    const requested: string[] = [];
    const proactive = new ProactiveSwitch({
      busy: () => false,
      graceMs: 0,
      thresholdPercent: null,
      now: () => new Date(),
      sleep: () => Promise.resolve(),
      logger: silentLogger(),
      request: (account, reason) => {
        requested.push(`${account}: ${reason}`);
        return Promise.resolve();
      },
    });
    proactive.trigger('work', 62, { kind: 'forecast', window: 'five_hour', limitAt: new Date('2026-11-24T14:32:00Z'), percentPerHour: 30.04 });
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    expect(requested).toEqual(['work: the forecast reaches the 5-hour limit at 2026-11-24T14:32:00.000Z (usage at 62%, 30%/h; monitor.proactiveForecastMs)']);
    expect(requested[0]).not.toContain('null');
    // Without the cause: under the threshold, or with none set, only the forecast can have fired.
    expect(proactiveReason(62, null)).toBe('the forecast reaches the limit within monitor.proactiveForecastMs (usage at 62%)');
    expect(proactiveReason(62, 90)).toBe('the forecast reaches the limit within monitor.proactiveForecastMs (usage at 62%)');
    expect(proactiveReason(93, 90)).toBe('usage at 93% (monitor.proactivePercent 90%)');
  });
});
