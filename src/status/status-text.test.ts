import { describe, expect, it } from 'vitest';
import type { StatusReport } from './status-report.js';
import { forecastSentence, NO_COLOURS, renderStatus } from './status-text.js';

const now = new Date('2026-11-24T12:00:00Z');
const later = (minutes: number) => new Date(now.getTime() + minutes * 60_000).toISOString();
const hhmm = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function report(overrides: Partial<StatusReport> = {}): StatusReport {
  return {
    activeAccount: 'work',
    link: 'work',
    partialSwap: { set: false, reason: null, since: null },
    accounts: [
      {
        name: 'work', home: '/h/work', preferred: true, exhausted: false, kind: null, resetsAt: null, resetGuessed: false,
        usagePercent: 50, usageResetsAt: later(180), nearLimit: false,
        windows: { five_hour: { percent: 50, resetsAt: later(180) }, seven_day: { percent: 85, resetsAt: later(3 * 24 * 60) } },
      },
      {
        name: 'spare', home: '/h/spare', preferred: false, exhausted: false, kind: null, resetsAt: null, resetGuessed: false,
        usagePercent: null, usageResetsAt: null, nearLimit: false, windows: { five_hour: null, seven_day: null },
      },
    ],
    sessions: [],
    swaps: [],
    scheduled: [],
    generatedAt: now.toISOString(),
    forecast: { account: 'work', state: 'limit', window: 'five_hour', limitAt: later(72), resetsAt: later(180), percent: 50, percentPerHour: 30, reason: null },
    ...overrides,
  };
}

describe('status text: each window and the forecast', () => {
  it('shows a labelled bar for the 5-hour and the weekly window under an account with readings, none under one without', () => {
    const lines = renderStatus(report(), NO_COLOURS).split('\n');
    const at = lines.findIndex((l) => /^ {2}\* work /.test(l));
    expect(lines[at + 1]).toMatch(/^ +5-hour +█{10}░{10} {2}50% {2}resets in 3h 00m$/);
    expect(lines[at + 2]).toMatch(/^ +weekly +█{17}░{3} {2}85% {2}resets in 3d 0h$/);
    expect(lines[at + 3]).toMatch(/^ {4}spare /);
    expect(lines.some((l) => /spare/.test(l) && /5-hour|weekly/.test(l))).toBe(false);
  });

  it('one window known: the other is shown as not reported', () => {
    const [first] = report().accounts;
    if (!first) throw new Error('no account');
    const work = { ...first, windows: { five_hour: null, seven_day: { percent: 12, resetsAt: null } } };
    const lines = renderStatus(report({ accounts: [work] }), NO_COLOURS).split('\n');
    expect(lines.find((l) => l.includes('5-hour'))).toMatch(/5-hour +·{20} {4}\?$/);
    expect(lines.find((l) => l.includes('weekly'))).toMatch(/weekly +█{2}░{18} {2}12%$/);
  });

  it('says when the limit is reached at this pace, or that the window resets first; nothing without a forecast', () => {
    const text = renderStatus(report(), NO_COLOURS);
    expect(text).toContain(`forecast work: at this pace the 5-hour limit is reached at ${hhmm(later(72))} (in 1h 12m) (30%/h, now 50%)`);
    const first = forecastSentence({ account: 'work', state: 'reset-first', window: 'seven_day', limitAt: null, resetsAt: later(90), percent: 20, percentPerHour: 1.5, reason: null }, now.toISOString());
    expect(first).toBe(`at this pace the weekly window resets at ${hhmm(later(90))} (in 1h 30m) before its limit is reached (1.5%/h, now 20%)`);
    const none = report({ forecast: { account: 'work', state: 'none', window: 'five_hour', limitAt: null, resetsAt: null, percent: null, percentPerHour: null, reason: 'too-few-readings' } });
    expect(renderStatus(none, NO_COLOURS)).not.toContain('forecast');
    expect(renderStatus(report({ activeAccount: null, forecast: null }), NO_COLOURS)).not.toContain('forecast');
  });
});
