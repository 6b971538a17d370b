import { describe, expect, it } from 'vitest';
import { promptPending } from './screen-poll.js';

const RULE = '─'.repeat(40);
const frame = (input: string, log: string[]) => [...log, '', RULE, `❯\u00a0${input}`, RULE, '  ⏵⏵ bypass permissions on (shift+tab to cycle)'].join('\n');
const history = ['❯ TASK-7 [turns=3]', '● Step 1 of 3 done.', "  ⎿  You've hit your 5-hour limit · resets 9:51pm (UTC)", '● Usage limit reached · set to continue automatically at 9:51pm'];

describe('promptPending: a frame drawn before Claude Code took the prompt typed in it', () => {
  it('a resumed history with the continuation still in the input line: its old banner is not news', () => {
    expect(promptPending(frame('Continue the task you were working on', history))).toBe(true);
  });

  it('a limit the last prompt met leaves the input line empty under its banner', () => {
    expect(promptPending(frame('', history))).toBe(false);
    expect(promptPending(frame('   ', history))).toBe(false);
  });

  it("reads the input line under its rule, not a prompt in the log nor a menu's selected option", () => {
    const menu = [...history, 'What do you want to do?', '❯ 1. Stop and wait for limit to reset', '  2. Upgrade your plan'].join('\n');
    expect(promptPending(menu)).toBe(false);
    expect(promptPending(['╭──────────╮', '│ > fix it │', '╰──────────╯'].join('\n'))).toBe(true);
    expect(promptPending(['╭──────────╮', '│ >        │', '╰──────────╯'].join('\n'))).toBe(false);
  });
});
