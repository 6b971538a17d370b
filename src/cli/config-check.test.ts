import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { runCli, type CliRun } from '../../test/helpers/cli.js';

// `config check` as a user runs it: the built CLI, a temp HOME.

let dir: string;
let home: string;
beforeEach(async () => {
  dir = await makeTempDir('cf-config-check');
  home = join(dir, 'home');
  mkdirSync(home);
});
afterEach(async () => {
  await removeTempDir(dir);
});

/** Runs the CLI with an environment of our own: nothing of the real home or config leaks in. */
function run(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(args, { env: { HOME: home, CLAUDE_FAILOVER_CONFIG: undefined, XDG_CONFIG_HOME: undefined, XDG_STATE_HOME: undefined, ...env }, timeoutMs: 20_000 });
}

function write(path: string, text: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

const valid = 'accounts:\n  - { name: work, home: ~/.claude-work }\n  - { name: spare, home: ~/.claude-spare }\n';

describe('claude-failover config check', () => {
  it('prints a summary of a valid file and exits 0', async () => {
    const file = write(join(dir, 'config.yaml'), valid);
    const result = await run(['--config', file, 'config', 'check']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain(`config ${file}: ok`);
    expect(result.stdout).toContain(`link        ${home}/.claude`);
    expect(result.stdout).toContain(`accounts    *work (${home}/.claude-work), spare (${home}/.claude-spare)`);
  });

  it('lists three mistakes with their field paths and lines, and exits 1', async () => {
    const file = write(
      join(dir, 'config.yaml'),
      ['accounts:', '  - { name: work, home: ~/.claude-work }', '  - { name: work, home: ~/.claude-spare }', 'monitor:', '  cooldownMs: soon', 'pool:', '  autonomous: { prefx: x- }', ''].join('\n'),
    );
    const result = await run(['--config', file, 'config', 'check']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      `${file}: 3 problems`,
      `  ${file}:3  accounts[1].name: duplicate account name "work" (also accounts[0])`,
      `  ${file}:5  monitor.cooldownMs: expected a number, got a string`,
      `  ${file}:7  pool.autonomous.prefx: unknown key; did you mean "prefix"?`,
    ]);
  });

  it('--json prints the summary as an object, with only whether a token is set; a failing config as ok false and its report', async () => {
    const file = write(join(dir, 'config.yaml'), `${valid}server:\n  token: a-secret-token-of-24-chars\n`);
    const result = await run(['--config', file, 'config', 'check', '--json']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).not.toContain('a-secret-token');
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({
      ok: true,
      file,
      link: `${home}/.claude`,
      accounts: [{ name: 'work', home: `${home}/.claude-work`, preferred: true }, { name: 'spare', home: `${home}/.claude-spare`, preferred: false }],
      monitor: { proactivePercent: null, proactiveForecastMs: null, usagePollMs: null },
      notify: { telegram: false, webhooks: 0 },
      server: { tokenSet: true },
    });
    const bad = write(join(dir, 'bad.yaml'), 'accounts: []\n');
    const failing = await run(['--config', bad, 'config', 'check', '--json']);
    expect(failing.code).toBe(1);
    const answer = JSON.parse(failing.stdout) as { ok: boolean; report: string };
    expect(answer.ok).toBe(false);
    expect(answer.report).toContain(`${bad}:1  accounts: at least one account is required`);
  });

  it('takes --config over $CLAUDE_FAILOVER_CONFIG', async () => {
    const good = write(join(dir, 'good.yaml'), valid);
    const bad = write(join(dir, 'bad.yaml'), 'accounts: []\n');
    const result = await run(['--config', good, 'config', 'check'], { CLAUDE_FAILOVER_CONFIG: bad });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`config ${good}: ok`);
    const viaEnv = await run(['config', 'check'], { CLAUDE_FAILOVER_CONFIG: bad });
    expect(viaEnv.code).toBe(1);
    expect(viaEnv.stderr).toContain(`${bad}:1  accounts: at least one account is required`);
  });

  it('finds $XDG_CONFIG_HOME/claude-failover/config.yaml, else ~/.config/claude-failover/config.yaml', async () => {
    const xdg = join(dir, 'xdg');
    const viaXdg = write(join(xdg, 'claude-failover', 'config.yaml'), valid);
    const result = await run(['config', 'check'], { XDG_CONFIG_HOME: xdg });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`config ${viaXdg}: ok`);
    const viaHome = write(join(home, '.config', 'claude-failover', 'config.yaml'), valid);
    const fallback = await run(['config', 'check']);
    expect(fallback.code).toBe(0);
    expect(fallback.stdout).toContain(`config ${viaHome}: ok`);
  });

  it('never prints a bot token or a server token, whatever is wrong around them', async () => {
    const botToken = '123456:BOT-SECRET-abcdef';
    const serverToken = 'SERVER-SECRET-0123456789';
    const wrongFields = write(
      join(dir, 'fields.yaml'),
      [
        valid,
        `notify: { telegram: { botToken: "${botToken}", chatId: [1], apiBase: "not a url ${botToken}" } }`,
        `server: { listen: "${serverToken}", token: "${serverToken}", tokn: "${serverToken}" }`,
      ].join('\n'),
    );
    const duplicateKey = write(join(dir, 'dup.yaml'), `${valid}server:\n  token: "${serverToken}"\n  token: "${serverToken}"\n`);
    const badSyntax = write(join(dir, 'syntax.yaml'), `${valid}notify: { telegram: { botToken: "${botToken}\n`);
    for (const file of [wrongFields, duplicateKey, badSyntax]) {
      const result = await run(['--config', file, 'config', 'check']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(file);
      const output = result.stdout + result.stderr;
      expect(output).not.toContain('SECRET');
    }
  });

  it('refuses a config that is not a regular file (a FIFO would block the read forever), naming the path', async () => {
    const fifo = join(dir, 'config.fifo');
    execFileSync('mkfifo', [fifo]);
    const viaLink = join(dir, 'link.yaml');
    symlinkSync(fifo, viaLink);
    const directory = join(dir, 'config.d');
    mkdirSync(directory);
    for (const [file, kind] of [[fifo, 'a FIFO'], [viaLink, 'a FIFO'], [directory, 'a directory']] as const) {
      const result = await run(['--config', file, 'config', 'check']);
      expect(result, file).toMatchObject({ code: 1, stdout: '' });
      expect(result.stderr, file).toBe(`${file}: 1 problem\n  ${file}  (top level): not a regular file (${kind}): give the path of a YAML file\n`);
    }
    // A link to a regular file is a regular file.
    const real = write(join(dir, 'real.yaml'), valid);
    symlinkSync(real, join(dir, 'to-real.yaml'));
    expect((await run(['--config', join(dir, 'to-real.yaml'), 'config', 'check'])).code).toBe(0);
  });
});

describe('config check with store.shared', () => {
  it('names the shared database by host, port and name, never its URL or password', async () => {
    const file = write(join(dir, 'config.yaml'), `${valid}store: { shared: { url: "postgresql://cf:s3cret-pw@db.internal:5432/failover" } }\nfleet: { host: box-2, spread: true }\n`);
    const text = await run(['--config', file, 'config', 'check']);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toContain('fleet       host box-2, shared store postgres db.internal:5432/failover, spread, lease 30000 ms');
    const json = await run(['--config', file, 'config', 'check', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ store: { shared: 'postgres db.internal:5432/failover' }, fleet: { host: 'box-2', spread: true, leaseMs: 30000 } });
    for (const out of [text.stdout, json.stdout]) expect(out).not.toContain('s3cret-pw');
  });
});
