import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configFromObject, formatFieldPath, loadConfig } from './load.js';

const dirs: string[] = [];
function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cf-config-'));
  dirs.push(dir);
  const file = join(dir, 'config.yaml');
  writeFileSync(file, text);
  return file;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const env = { HOME: '/home/u', XDG_STATE_HOME: '/var/state', PROJ: '/srv/p' };

describe('loadConfig', () => {
  it('fills every default from a config that names only accounts', () => {
    const file = configFile('accounts:\n  - { name: work, home: ~/.claude-work }\n');
    const result = loadConfig({ flag: file, env });
    if (!result.ok) throw new Error(result.report);
    const c = result.config;
    expect(c.home).toBe('/home/u');
    expect(c.link).toBe('/home/u/.claude');
    expect(c.sharedDir).toBe('/home/u/.claude-shared');
    expect(c.stateDir).toBe('/var/state/claude-failover');
    expect(c.accounts).toEqual([{ name: 'work', home: '/home/u/.claude-work' }]);
    expect(c.claude.command).toBe('claude');
    expect(c.claude.args).toEqual(['--dangerously-skip-permissions']);
    expect(c.claude.resumePrompt).toMatch(/^Continue the task/);
    expect(c.tmux.socket).toBeNull();
    expect(c.pool.autonomous).toEqual({ prefix: 'ccl-auto-', startIndex: 10, min: 0, max: 0, project: '/home/u' });
    expect(c.monitor).toMatchObject({ pollIntervalMs: 1000, cooldownMs: 300000, returnMarginMs: 300000, proactivePercent: null });
    expect(c.notify).toEqual({ telegram: null, webhooks: [] });
    expect(c.server).toMatchObject({ listen: '127.0.0.1:7420', host: '127.0.0.1', port: 7420, token: null });
  });

  it('keeps the other defaults of a partial section and expands ~, $VARS and relative paths', () => {
    const file = configFile(
      ['accounts: [{ name: a, home: rel/a }, { name: b, home: "${PROJ}/b" }]', 'monitor: { cooldownMs: 1000 }', 'pool: { dedicated: [{ name: web, project: $PROJ/web }] }'].join('\n'),
    );
    const result = loadConfig({ flag: file, env });
    if (!result.ok) throw new Error(result.report);
    expect(result.config.monitor.cooldownMs).toBe(1000);
    expect(result.config.monitor.pollIntervalMs).toBe(1000);
    expect(result.config.accounts[0]?.home).toBe(join(file, '..', 'rel/a'));
    expect(result.config.accounts[1]?.home).toBe('/srv/p/b');
    expect(result.config.pool.dedicated).toEqual([{ name: 'web', project: '/srv/p/web' }]);
  });

  it('finds the file through $CLAUDE_FAILOVER_CONFIG, then XDG_CONFIG_HOME', () => {
    const file = configFile('accounts: [{ name: a, home: /x/a }]');
    const viaEnv = loadConfig({ env: { ...env, CLAUDE_FAILOVER_CONFIG: file } });
    expect(viaEnv.ok).toBe(true);
    const viaXdg = loadConfig({ env: { ...env, XDG_CONFIG_HOME: join(file, '..', 'nowhere') } });
    expect(viaXdg.ok).toBe(false);
    if (!viaXdg.ok) expect(viaXdg.file).toBe(join(file, '..', 'nowhere', 'claude-failover', 'config.yaml'));
  });

  it('reports every mistake at once with its field path and line', () => {
    const file = configFile(
      [
        'accounts:',
        '  - { name: work, home: /h/work }',
        '  - { name: work, home: /h/work/inner }',
        'monitor:',
        '  pollIntervalMS: 500',
        'pool:',
        '  autonomous: { min: 3, max: 1 }',
      ].join('\n'),
    );
    const result = loadConfig({ flag: file, env });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const found = result.problems.map((p) => [p.line, p.path.join('.'), p.message]);
    expect(found).toEqual(
      expect.arrayContaining([
        [3, 'accounts.1.name', expect.stringContaining('duplicate account name "work"')],
        [3, 'accounts.1.home', expect.stringContaining('inside the home of account "work"')],
        [5, 'monitor.pollIntervalMS', 'unknown key; did you mean "pollIntervalMs"?'],
      ]),
    );
    expect(result.report).toContain(`${file}:5  monitor.pollIntervalMS: unknown key; did you mean "pollIntervalMs"?`);
    expect(result.report).toContain(`${file}: 4 problems`);
    expect(result.report).toContain('pool.autonomous.min: min (3) is greater than max (1)');
  });

  it.each([
    ['a session name tmux or a shell would mangle', { pool: { dedicated: [{ name: 'web;rm', project: '/p' }] } }, 'pool.dedicated[0].name'],
    ['an unsafe prefix', { pool: { autonomous: { prefix: 'a b' } } }, 'pool.autonomous.prefix'],
    ['a home equal to the link', { home: '/h', accounts: [{ name: 'a', home: '/h/.claude' }] }, 'accounts[0].home'],
    ['a home inside sharedDir', { sharedDir: '/h/shared', accounts: [{ name: 'a', home: '/h/shared/a' }] }, 'accounts[0].home'],
    ['two accounts with one home', { accounts: [{ name: 'a', home: '/h/x' }, { name: 'b', home: '/h/x' }] }, 'accounts[1].home'],
    ['a dedicated name inside the autonomous range', { pool: { autonomous: { prefix: 's-', startIndex: 1, max: 3 }, dedicated: [{ name: 's-2', project: '/p' }] } }, 'pool.dedicated[0].name'],
    ['duplicate dedicated names', { pool: { dedicated: [{ name: 'w', project: '/p' }, { name: 'w', project: '/q' }] } }, 'pool.dedicated[1].name'],
    ['a public listen address without a token', { server: { listen: '0.0.0.0:7420' } }, 'server.listen'],
    ['an unset variable', { sharedDir: '$NOPE_NOT_SET/x' }, 'sharedDir'],
    ['no accounts', { accounts: [] }, 'accounts'],
    ['sharedDir equal to the link', { home: '/h', sharedDir: '/h/.claude' }, 'sharedDir'],
    ['sharedDir inside the link', { home: '/h', sharedDir: '/h/.claude/shared' }, 'sharedDir'],
    ['an account home inside the link', { home: '/h', accounts: [{ name: 'a', home: '/h/.claude/a' }] }, 'accounts[0].home'],
  ])('rejects %s', (_what, overrides, field) => {
    const raw = { accounts: [{ name: 'a', home: '/h/a' }], ...overrides };
    const result = configFromObject(raw, { baseDir: '/base', env });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.report).toContain(`${field}:`);
  });

  it('accepts a public listen address when a token is set, and never prints the token', () => {
    const token = 'a-very-secret-token-value';
    const ok = configFromObject({ accounts: [{ name: 'a', home: '/h/a' }], server: { listen: '0.0.0.0:7420', token } }, { baseDir: '/b', env });
    expect(ok.ok).toBe(true);
    const bad = configFromObject(
      { accounts: [{ name: 'a', home: '/h/a' }], server: { listen: 'nope', token }, notify: { telegram: { botToken: '123:SECRET', chatId: 5, apiBase: 'not a url' } } },
      { baseDir: '/b', env },
    );
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.report).not.toContain(token);
      expect(bad.report).not.toContain('SECRET');
      expect(bad.report).toContain('notify.telegram.apiBase');
    }
  });

  it('names the line of a YAML syntax error and of a duplicate key', () => {
    const file = configFile('accounts:\n  - { name: a, home: /x\n');
    const result = loadConfig({ flag: file, env });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems[0]).toMatchObject({ line: 3, message: expect.stringMatching(/^YAML syntax/) as unknown });
    expect(result.report).toContain(`${file}:3  (top level): YAML syntax`);
    const dup = loadConfig({ flag: configFile('home: /a\naccounts: [{ name: a, home: /x }]\nhome: /b\n'), env });
    expect(dup.ok).toBe(false);
    if (!dup.ok) expect(dup.problems).toEqual([{ path: [], line: 3, message: 'YAML syntax: Map keys must be unique' }]);
  });
});

describe('loadConfig: the documented examples', () => {
  const issueExample = `home: ~                 # directory holding the .claude link (default: $HOME)
sharedDir: ~/.claude-shared
stateDir: ~/.local/state/claude-failover   # default $XDG_STATE_HOME/claude-failover
accounts:               # priority order: the first is the preferred account
  - { name: work, home: ~/.claude-work }
  - { name: spare, home: ~/.claude-spare }
claude:
  command: claude       # the CLI to launch (a path or a name on PATH)
  args: [--dangerously-skip-permissions]
  env: {}               # extra environment for every managed session
  resumePrompt: "Continue the task you were working on when the usage limit was reached; do not repeat work that is already complete."
tmux: { socket: null }  # tmux -L name; null = the user's default server
pool:
  autonomous: { prefix: ccl-auto-, startIndex: 10, min: 0, max: 0, project: ~ }
  dedicated: [ { name: ccl-web, project: ~/src/web } ]
monitor: { pollIntervalMs: 1000, cooldownMs: 300000, returnMarginMs: 300000, proactivePercent: null }
notify: { telegram: null, webhooks: [] }   # telegram: { botToken, chatId, apiBase }
server: { listen: "127.0.0.1:7420", token: null }
`;

  it("accepts the issue's example verbatim: home: ~ and project: ~ (YAML null) mean the defaults", () => {
    const result = loadConfig({ flag: configFile(issueExample), env });
    if (!result.ok) throw new Error(result.report);
    expect(result.config.home).toBe('/home/u');
    expect(result.config.link).toBe('/home/u/.claude');
    expect(result.config.sharedDir).toBe('/home/u/.claude-shared');
    expect(result.config.stateDir).toBe('/home/u/.local/state/claude-failover');
    expect(result.config.pool.autonomous.project).toBe('/home/u');
    expect(result.config.pool.dedicated).toEqual([{ name: 'ccl-web', project: '/home/u/src/web' }]);
  });

  it("accepts README.md's example", () => {
    const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
    const example = /## Configuration[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toContain('accounts:');
    const result = loadConfig({ flag: configFile(example ?? ''), env });
    if (!result.ok) throw new Error(result.report);
    expect(result.config.home).toBe('/home/u');
  });

  it('takes null as the default for any key that has one, and keeps null where null is the meaning', () => {
    const file = configFile(['sharedDir:', 'accounts: [{ name: a, home: /x/a }]', 'claude: { args: ~ }', 'monitor: { cooldownMs: ~, proactivePercent: ~ }', 'server: ~'].join('\n'));
    const result = loadConfig({ flag: file, env });
    if (!result.ok) throw new Error(result.report);
    expect(result.config.sharedDir).toBe('/home/u/.claude-shared');
    expect(result.config.claude.args).toEqual(['--dangerously-skip-permissions']);
    expect(result.config.monitor).toMatchObject({ cooldownMs: 300000, proactivePercent: null });
    expect(result.config.server.listen).toBe('127.0.0.1:7420');
  });
});

describe('loadConfig: error messages', () => {
  function problemsOf(text: string): string[] {
    const result = loadConfig({ flag: configFile(text), env });
    if (result.ok) throw new Error('expected the config to be rejected');
    return result.problems.map((p) => `${String(p.line)} ${formatFieldPath(p.path)}: ${p.message}`);
  }

  it('says which type was expected and which was found, and "is required" only when the key is missing', () => {
    const problems = problemsOf(
      [
        'accounts:',
        '  - { name: a }',
        '  - { name: b, home: ~ }',
        'claude: { args: x }',
        'monitor: { cooldownMs: abc, pollIntervalMs: 1.5 }',
        'notify: { telegram: { botToken: "123:SECRET-BOT-TOKEN", chatId: true } }',
      ].join('\n'),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        '2 accounts[0].home: is required',
        '3 accounts[1].home: is empty (`~` and a missing value are YAML null); expected a string',
        '4 claude.args: expected an array, got a string',
        '5 monitor.cooldownMs: expected a number, got a string',
        '5 monitor.pollIntervalMs: expected a whole number, got a number with a fraction',
        '6 notify.telegram.chatId: expected a string or a number, got a boolean',
      ]),
    );
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).not.toContain('SECRET');
  });

  it('reports every cross-field rule whose fields are valid, even beside a field error in the same section', () => {
    const problems = problemsOf(
      [
        'home: /h',
        'sharedDir: /h/.claude-b/shared',
        'accounts:',
        '  - { name: "bad name", home: /h/.claude }',
        '  - { name: b, home: /h/.claude-b }',
        '  - { name: c, home: /h/.claude-b }',
      ].join('\n'),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^4 accounts\[0\]\.name: an account name may contain only/),
        '4 accounts[0].home: is the link itself (/h/.claude); an account home must be a separate directory',
        '6 accounts[2].home: two accounts share the home /h/.claude-b (also accounts[1]); each login needs its own home',
        '2 sharedDir: lies inside the home of account "b"',
      ]),
    );
  });

  it('suggests only keys valid where the unknown key stands', () => {
    const problems = problemsOf(['accounts: [{ name: a, home: /x/a }]', 'monitor: { command: x }', 'claude: { comand: x }', 'server: { tokn: null }'].join('\n'));
    expect(problems).toEqual([
      '2 monitor.command: unknown key',
      '3 claude.comand: unknown key; did you mean "command"?',
      '4 server.tokn: unknown key; did you mean "token"?',
    ]);
  });
});
