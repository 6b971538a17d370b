import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyScreen, extractResumeHint, limitMenuOpen } from './screen-state.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../../test/fixtures/screens', name), 'utf8');
const now = new Date('2026-11-24T20:00:00Z');

describe('classifyScreen over real-shaped pane captures', () => {
  it.each([
    ['idle.txt', 'idle'],
    ['working.txt', 'working'],
    ['limited-5h.txt', 'limited'],
    ['limited-weekly.txt', 'limited'],
    ['limited-menu.txt', 'limited'],
    ['limit-menu-reopened.txt', 'idle'],
    ['auto-continue.txt', 'limited'],
    ['old-banner-scrollback.txt', 'idle'],
    ['warning-95.txt', 'idle'],
    ['trust-dialog.txt', 'trust-dialog'],
    ['bypass-dialog.txt', 'bypass-dialog'],
    ['login-needed.txt', 'login-needed'],
    ['exited-resume-hint.txt', 'shell'],
    ['shell.txt', 'shell'],
  ])('%s → %s', (file, state) => {
    expect(classifyScreen(fixture(file), { now, timeZone: 'UTC' }).state).toBe(state);
  });

  it('tells the rate-limit menu (2.0.77 reopening it over a resumed history) from a limit banner or an idle prompt', () => {
    expect(limitMenuOpen(fixture('limit-menu-reopened.txt'))).toBe(true);
    expect(limitMenuOpen(fixture('limited-menu.txt'))).toBe(true);
    // Reopened over history (a continuation was answered after the old banner): a dialog over an idle session.
    expect(classifyScreen(fixture('limit-menu-reopened.txt'), { now, timeZone: 'UTC' }).rule).toBe('menu');
    // Opened by a limit that is the conversation's latest turn: a limit, with the banner's reset.
    const fresh = [
      '❯ TASK-A: refactor the parser',
      "  ⎿  You've hit your limit · resets 9:18pm (UTC)",
      '     Opening your options…',
      '',
      '❯ /rate-limit-options',
      '─'.repeat(40),
      ' What do you want to do?',
      '',
      ' ❯ 1. Stop and wait for limit to reset',
      '   2. Switch to extra usage',
      '   3. Upgrade your plan',
      '',
      ' Enter to confirm · Esc to cancel',
    ].join('\n');
    const limited = classifyScreen(fresh, { now, timeZone: 'UTC' });
    expect(limited).toMatchObject({ state: 'limited', rule: 'limited:menu' });
    expect(limited.limit?.resetsAt?.toISOString()).toBe('2026-11-24T21:18:00.000Z');
    expect(limitMenuOpen(fresh)).toBe(true);
    for (const other of ['limited-5h.txt', 'idle.txt', 'auto-continue.txt', 'old-banner-scrollback.txt']) expect(limitMenuOpen(fixture(other))).toBe(false);
  });

  it('reads the limit and its reset from a limited screen', () => {
    const five = classifyScreen(fixture('limited-5h.txt'), { now, timeZone: 'UTC' });
    expect(five.limit).toMatchObject({ blocked: true });
    expect(five.limit?.resetsAt?.toISOString()).toBe('2026-11-24T21:51:00.000Z');
    const weekly = classifyScreen(fixture('limited-weekly.txt'), { now, timeZone: 'UTC' });
    expect(weekly.limit).toMatchObject({ kind: 'seven_day' });
    expect(weekly.limit?.resetsAt?.toISOString()).toBe('2026-11-26T19:50:00.000Z');
  });

  it('ignores a banner that has scrolled above the bottom lines', () => {
    const capture = `  ⎿  You've hit your 5-hour limit · resets 9:51pm (UTC)\n${'● more work\n'.repeat(20)}${fixture('idle.txt')}`;
    expect(classifyScreen(capture, { now }).state).toBe('idle');
  });

  it('strips terminal escapes before reading', () => {
    const colored = fixture('limited-5h.txt').replace("You've", "\u001b[31mYou've\u001b[0m");
    expect(classifyScreen(colored, { now, timeZone: 'UTC' }).state).toBe('limited');
  });

  it('finds the session id in the exit hint', () => {
    expect(extractResumeHint(fixture('exited-resume-hint.txt'))).toBe('6c1f3b2a-5d4e-4f3a-9b8c-7d6e5f4a3b2c');
    expect(extractResumeHint(fixture('idle.txt'))).toBeNull();
  });
});
