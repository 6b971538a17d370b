import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { capabilitiesOf, claudeCapabilities, parseClaudeVersion } from './claude-version.js';
import { waitFor } from '../../test/helpers/wait-for.js';

const fake = join(import.meta.dirname, '../../test/fixtures/fake-claude/claude');
const caps = (text: string) => capabilitiesOf(parseClaudeVersion(text));

describe('the installed Claude Code version', () => {
  it('parses what --version prints, and nothing else', () => {
    expect(parseClaudeVersion('2.1.330 (Claude Code)\n')).toMatchObject({ major: 2, minor: 1, patch: 330, text: '2.1.330' });
    expect(parseClaudeVersion('1.0.24 (Claude Code)')?.text).toBe('1.0.24');
    expect(parseClaudeVersion('claude v2.0.77')?.text).toBe('2.0.77');
    expect(parseClaudeVersion('command not found')).toBeNull();
    expect(parseClaudeVersion('')).toBeNull();
  });

  it('knows which hook events, hook type and bypass key each version accepts (the versions read from real packages)', () => {
    expect(caps('2.1.330')).toMatchObject({ hookEvents: ['SessionStart', 'UserPromptSubmit', 'Stop', 'StopFailure'], httpHooks: true, bypassKey: 'settings', commandOnlyEvents: ['SessionStart'], warnings: [] });
    expect(caps('2.1.150')).toMatchObject({ hookEvents: ['SessionStart', 'UserPromptSubmit', 'Stop', 'StopFailure'], httpHooks: true, bypassKey: 'settings' });
    expect(caps('2.1.100')).toMatchObject({ hookEvents: ['SessionStart', 'UserPromptSubmit', 'Stop', 'StopFailure'], httpHooks: false });
    expect(caps('2.1.77').hookEvents).not.toContain('StopFailure');
    expect(caps('2.1.50')).toMatchObject({ hookEvents: ['SessionStart', 'UserPromptSubmit', 'Stop'], httpHooks: false, bypassKey: 'settings' });
    expect(caps('2.1.10')).toMatchObject({ httpHooks: false, bypassKey: 'both' });
    expect(caps('2.0.77')).toMatchObject({ hookEvents: ['SessionStart', 'UserPromptSubmit', 'Stop'], httpHooks: false, bypassKey: 'claude-json' });
    expect(caps('1.0.72').hookEvents).toEqual(['SessionStart', 'UserPromptSubmit', 'Stop']);
    expect(caps('1.0.60').hookEvents).toEqual(['UserPromptSubmit', 'Stop']);
    expect(caps('1.0.24')).toMatchObject({ hookEvents: [], httpHooks: false });
    expect(caps('1.0.24').warnings.join()).toContain('no hooks');
    expect(caps('3.0.0')).toMatchObject({ httpHooks: true, bypassKey: 'settings' });
  });

  it('an unknown version gets the most compatible settings and a warning', () => {
    const unknown = capabilitiesOf(null, 'why not');
    expect(unknown).toMatchObject({ version: null, hookEvents: ['SessionStart', 'UserPromptSubmit', 'Stop'], httpHooks: false, bypassKey: 'both' });
    expect(unknown.warnings.join()).toContain('why not');
  });

  it('asks the real command once (the fake prints 2.1.330) and says why when it cannot', async () => {
    const first = claudeCapabilities(fake);
    expect(claudeCapabilities(fake)).toBe(first);
    expect((await first).version?.text).toBe('2.1.330');
    const missing = await claudeCapabilities(join(import.meta.dirname, 'no-such-claude'));
    expect(missing.version).toBeNull();
    expect(missing.warnings.join()).toContain('--version');
  });

  it('asks again after ten minutes, giving the older answer until the newer one is there', async () => {
    let clock = 1_000_000;
    const now = () => clock;
    const env = { CF_TEST_CASE: 'reask' };
    const first = await claudeCapabilities(fake, { env, now });
    clock += 11 * 60_000;
    expect(await claudeCapabilities(fake, { env, now })).toBe(first);
    await waitFor(async () => (await claudeCapabilities(fake, { env, now })) !== first, { timeoutMs: 10_000, what: 'the second --version' });
    expect((await claudeCapabilities(fake, { env, now })).version?.text).toBe('2.1.330');
  });
});
