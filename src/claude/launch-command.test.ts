import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { launchCommandLine } from './launch-command.js';

describe('launchCommandLine', () => {
  it('sets CLAUDE_CONFIG_DIR and resumes by id, every value quoted', () => {
    const line = launchCommandLine({ accountHome: "/h/it's spare", command: 'claude', args: ['--dangerously-skip-permissions'], env: { IS_SANDBOX: '1' }, resumeId: '0b5e3c1a-1f2e-4d5c-9a8b-7c6d5e4f3a2b' });
    expect(line).toBe("CLAUDE_CONFIG_DIR='/h/it'\\''s spare' IS_SANDBOX=1 exec claude --dangerously-skip-permissions --resume 0b5e3c1a-1f2e-4d5c-9a8b-7c6d5e4f3a2b");
  });

  it('survives a real shell: hostile values arrive as literal arguments', () => {
    const hostile = '$(touch /tmp/pwned) `id` ; rm -rf / "\'';
    const line = launchCommandLine({ accountHome: hostile, command: 'printf', args: ['%s\\n', hostile], env: { X: hostile } })
      .replace(' exec printf', ' exec sh -c \'printf "%s\\n" "$CLAUDE_CONFIG_DIR" "$X"; printf "%s\\n" "$@"\' sh');
    const out = execFileSync('sh', ['-c', line], { encoding: 'utf8' });
    expect(out.split('\n').slice(0, 2)).toEqual([hostile, hostile]);
  });

  it('starts a new conversation with a known id, and refuses a malformed one', () => {
    expect(launchCommandLine({ accountHome: '/h', command: 'claude', args: [], env: {}, newSessionId: 'abcdef12-0000-4000-8000-000000000000' })).toBe(
      'CLAUDE_CONFIG_DIR=/h exec claude --session-id abcdef12-0000-4000-8000-000000000000',
    );
    expect(() => launchCommandLine({ accountHome: '/h', command: 'claude', args: [], env: {}, resumeId: 'x; rm -rf /' })).toThrow(/malformed/);
  });
});
