import { describe, expect, it } from 'vitest';
import { deadStatusIn, lastWords } from './session-waits.js';

describe('lastWords', () => {
  it('keeps the last non-empty lines a dead launch printed', () => {
    expect(lastWords('one\n\ntwo\nthree\n\n', 2)).toBe('two\nthree');
  });

  it("drops tmux's own 'Pane is dead' line: a claude that exits without a word has no last words", () => {
    const dead = 'Pane is dead (status 0, Tue Dec  1 17:33:02 2026)';
    expect(lastWords(`\n\n${dead}\n`)).toBe('');
    expect(lastWords(`bash: line 1: /opt/bin/claude: No such file or directory\n\n${dead}\n`)).toBe('bash: line 1: /opt/bin/claude: No such file or directory');
  });

  it("reads the exit status from tmux's line when the pane list did not give it", () => {
    expect(deadStatusIn('x\nPane is dead (status 127, Tue Dec  1 17:33:02 2026)\n')).toBe(127);
    expect(deadStatusIn('still running')).toBeNull();
  });
});
