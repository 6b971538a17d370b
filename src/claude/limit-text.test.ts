import { describe, expect, it } from 'vitest';
import { parseLimitText, rateLimitTypeToKind } from './limit-text.js';

const NOW = new Date('2026-11-24T20:00:00Z'); // 20:00 UTC, 15:00 in New York, 12:00 in Los Angeles

describe('parseLimitText: every banner Claude Code has printed', () => {
  it.each([
    ["You've hit your 5-hour limit · resets 9:51pm (UTC)", 'five_hour', '2026-11-24T21:51:00.000Z', 'banner:hit-your-limit'],
    ["You've hit your 5-hour limit ∙ resets 9:51pm (UTC)", 'five_hour', '2026-11-24T21:51:00.000Z', 'banner:hit-your-limit'],
    ["You've hit your 5-hour limit - resets 9:51pm (UTC)", 'five_hour', '2026-11-24T21:51:00.000Z', 'banner:hit-your-limit'],
    ['You’ve hit your 5-hour limit · resets 10pm (UTC)', 'five_hour', '2026-11-24T22:00:00.000Z', 'banner:hit-your-limit'],
    ["  ⎿  You've hit your session limit · resets 12:50am (America/Los_Angeles)", 'five_hour', '2026-11-25T08:50:00.000Z', 'banner:hit-your-limit'],
    ["You've hit your weekly limit · resets Jul 25, 9pm (America/New_York)", 'seven_day', '2027-07-26T01:00:00.000Z', 'banner:hit-your-limit'],
    ["You've hit your weekly limit · resets Nov 26, 7:50pm (UTC)", 'seven_day', '2026-11-26T19:50:00.000Z', 'banner:hit-your-limit'],
    ["You've hit your weekly limit · resets Nov 26, 2027, 7:50pm (UTC)", 'seven_day', '2027-11-26T19:50:00.000Z', 'banner:hit-your-limit'],
    ["You've hit your weekly limit · resets Sep 15 at 7pm (UTC)", 'seven_day', '2027-09-15T19:00:00.000Z', 'banner:hit-your-limit'],
    ["You've hit your limit · resets 11pm (America/Anchorage)", 'unknown', '2026-11-25T08:00:00.000Z', 'banner:hit-your-limit'],
    ["You're out of extra usage · resets 11:30am (Asia/Colombo)", 'extra_usage', '2026-11-25T06:00:00.000Z', 'banner:out-of-extra-usage'],
    ['Weekly limit reached · resets Dec 2, 7pm (Europe/Moscow)', 'seven_day', '2026-12-02T16:00:00.000Z', 'banner:limit-reached'],
    ['5-hour limit reached ∙ resets 5am', 'five_hour', '2026-11-25T05:00:00.000Z', 'banner:limit-reached'],
    ['5-hour limit reached ∙ resets 5AM', 'five_hour', '2026-11-25T05:00:00.000Z', 'banner:limit-reached'],
    ['Opus weekly limit reached ∙ resets Oct 31, 9am', 'opus', '2027-10-31T09:00:00.000Z', 'banner:limit-reached'],
    ['Sonnet weekly limit reached · resets Nov 30, 9am', 'sonnet', '2026-11-30T09:00:00.000Z', 'banner:limit-reached'],
    // Shown at 3pm sharp: the reset is this very minute (the display drops the seconds), not tomorrow's.
    ['Claude usage limit reached. Your limit will reset at 3pm (America/Bogota).', 'unknown', '2026-11-24T20:00:00.000Z', 'legacy:will-reset-at'],
    ['Claude usage limit reached. Your limit will reset at 4pm (America/Bogota).', 'unknown', '2026-11-24T21:00:00.000Z', 'legacy:will-reset-at'],
    ['Claude AI usage limit reached|1760004000', 'unknown', '2025-10-09T10:00:00.000Z', 'machine:epoch'],
    ["You've hit your limit · resets in 2 hours", 'unknown', '2026-11-24T22:00:00.000Z', 'banner:hit-your-limit+relative'],
    ['5-hour limit reached · try again in 45 minutes', 'five_hour', '2026-11-24T20:45:00.000Z', 'banner:limit-reached+relative'],
    ['5-hour limit reached · try again in 3h 20m', 'five_hour', '2026-11-24T23:20:00.000Z', 'banner:limit-reached+relative'],
    ['⚠ Usage limit reached · limit resets 9:51pm', 'unknown', '2026-11-24T21:51:00.000Z', 'banner:usage-limit-resets'],
    ['● Usage limit reached · set to continue automatically at 9:51pm', 'unknown', '2026-11-24T21:51:00.000Z', 'banner:auto-continue'],
    ['Continuing automatically at 9:51pm · Esc to cancel', 'unknown', '2026-11-24T21:51:00.000Z', 'banner:auto-continue'],
  ])('%s', (text, kind, resetsAt, rule) => {
    const result = parseLimitText(text, { now: NOW, timeZone: 'UTC' });
    expect(result).toMatchObject({ blocked: true, kind, resetGuessed: false, rule });
    expect(result.blocked && result.resetsAt?.toISOString()).toBe(resetsAt);
  });

  it('resolves a bare time in the host zone given (--tz) when the banner names none', () => {
    const r = parseLimitText('5-hour limit reached ∙ resets 5pm', { now: NOW, timeZone: 'America/New_York' });
    expect(r.blocked && r.resetsAt?.toISOString()).toBe('2026-11-24T22:00:00.000Z');
  });

  it('lets the zone named in the banner win over the configured one', () => {
    const r = parseLimitText("You've hit your 5-hour limit · resets 9:51pm (UTC)", { now: NOW, timeZone: 'Asia/Tokyo' });
    expect(r.blocked && r.resetsAt?.toISOString()).toBe('2026-11-24T21:51:00.000Z');
  });

  it.each([
    // Spring forward in New York: 2:30am does not exist on 2026-03-08 and moves to 3:30 EDT.
    ['2026-03-08T05:00:00Z', '5-hour limit reached ∙ resets 2:30am (America/New_York)', '2026-03-08T07:30:00.000Z'],
    ['2026-03-08T05:00:00Z', '5-hour limit reached ∙ resets 9am (America/New_York)', '2026-03-08T13:00:00.000Z'],
    ['2026-03-07T23:00:00Z', '5-hour limit reached ∙ resets 1am (America/New_York)', '2026-03-08T06:00:00.000Z'],
    // Fall back: 1:30am happens twice on 2026-11-01; the first one is the reset.
    ['2026-11-01T04:00:00Z', '5-hour limit reached ∙ resets 1:30am (America/New_York)', '2026-11-01T05:30:00.000Z'],
    ['2026-11-01T12:00:00Z', '5-hour limit reached ∙ resets 7pm (America/New_York)', '2026-11-02T00:00:00.000Z'],
  ])('is DST-safe (now %s): %s', (now, text, expected) => {
    const r = parseLimitText(text, { now: new Date(now) });
    expect(r.blocked && r.resetsAt?.toISOString()).toBe(expected);
  });

  it('falls back to a guess when the reset cannot be read', () => {
    const r = parseLimitText("You've hit your 5-hour limit · resets whenever", { now: NOW, fallbackResetMs: 30 * 60_000 });
    expect(r).toMatchObject({ blocked: true, kind: 'five_hour', resetGuessed: true });
    expect(r.blocked && r.resetsAt?.toISOString()).toBe('2026-11-24T20:30:00.000Z');
  });

  it('takes the last banner of a text', () => {
    const r = parseLimitText("You've hit your 5-hour limit · resets 9pm (UTC)\nsome work\nYou've hit your weekly limit · resets Nov 26, 7:50pm (UTC)", { now: NOW });
    expect(r).toMatchObject({ blocked: true, kind: 'seven_day' });
  });

  it.each([
    ["You've used 95% of your 5-hour limit · resets 9:55pm (UTC) · /upgrade to keep using Claude Code", 95, 'five_hour', 'warning:used-percent'],
    ["You've used 90% of your session limit · resets 3pm", 90, 'five_hour', 'warning:used-percent'],
    ["You've used 75% of your weekly limit", 75, 'seven_day', 'warning:used-percent'],
    ['Approaching Opus usage limit', 0, 'opus', 'warning:approaching'],
    ['Approaching usage limit · resets at 9pm', 0, 'unknown', 'warning:approaching'],
  ])('never blocks on a warning: %s', (text, percent, kind, rule) => {
    expect(parseLimitText(text, { now: NOW, timeZone: 'UTC' })).toMatchObject({ blocked: false, warning: { percent, kind }, rule });
  });

  it.each(['The rate limit in this API is 10 requests per second', 'I will write the limit checker now', '', 'limit reached in the loop counter'])('ignores ordinary text: %j', (text) => {
    expect(parseLimitText(text, { now: NOW })).toEqual({ blocked: false, rule: null });
  });

  it('maps the API rate limit types', () => {
    expect(['five_hour', 'seven_day', 'seven_day_opus', 'seven_day_sonnet', 'other'].map(rateLimitTypeToKind)).toEqual(['five_hour', 'seven_day', 'opus', 'sonnet', 'unknown']);
  });

  it('reads a reset shown for the current minute as seconds away, not as tomorrow (2.0.77 showed "resets 3:12pm" at 3:12:04)', () => {
    const now = new Date('2026-12-01T15:12:04Z');
    const parsed = parseLimitText("You've hit your limit · resets 3:12pm (UTC)", { now });
    expect(parsed).toMatchObject({ blocked: true, resetsAt: new Date('2026-12-01T15:12:00Z') });
    // Well past (an hour): that time comes round again tomorrow.
    expect(parseLimitText("You've hit your limit · resets 2:12pm (UTC)", { now })).toMatchObject({ blocked: true, resetsAt: new Date('2026-12-02T14:12:00Z') });
  });
});
