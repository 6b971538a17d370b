import { describe, expect, it } from 'vitest';
import { runCli } from '../../test/helpers/cli.js';
import { buildProgram } from './program.js';

// The help a user reads: the built CLI, not a TTY, so commander wraps at 80 columns.
const commands = buildProgram().commands.map((c) => c.name());

/** The description paragraphs of a help page: between the usage line and the first section. */
function paragraphs(help: string): string[][] {
  const lines = help.split('\n');
  const end = lines.findIndex((l) => /^(Options|Arguments|Commands):$/.test(l));
  const text = lines.slice(1, end === -1 ? undefined : end).join('\n').trim();
  return text.split(/\n\n+/).map((p) => p.split('\n'));
}

describe('--help', () => {
  it('lists every command on one line with its summary', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    const list = result.stdout.slice(result.stdout.indexOf('Commands:\n') + 'Commands:\n'.length).trimEnd().split('\n');
    expect(list.map((l) => /^ {2}(\S+)/.exec(l)?.[1])).toEqual([...commands, 'help']);
    for (const line of list) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  it.each([[''], ...commands.map((c) => [c]), ['config check']])('help %s wraps only at the terminal width, never mid-sentence', async (command) => {
    const result = await runCli(command === '' ? ['--help'] : ['help', ...command.split(' ')]);
    expect(result.code).toBe(0);
    const found = paragraphs(result.stdout);
    expect(found.length).toBeGreaterThan(0);
    for (const paragraph of found) {
      // Every line but a paragraph's last is filled to near the width: a short one is a break written into the text.
      for (const line of paragraph.slice(0, -1)) expect(line.length, `${line}\n(in: ${paragraph.join(' / ')})`).toBeGreaterThanOrEqual(60);
    }
  });
});
