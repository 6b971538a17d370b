import { execFile } from 'node:child_process';
import { access, constants, lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/types.js';
import { readLink } from './link.js';
import { verifySharedLinks } from './shared-links.js';
import { readJsonObject } from './json-file.js';

export interface Check {
  readonly name: string;
  readonly status: 'ok' | 'warn' | 'fail';
  readonly message: string;
  readonly fix: string | null;
}

function runs(command: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 5000 }, (err, stdout) => { resolve(err ? null : stdout.trim().split('\n')[0] ?? ''); });
  });
}

async function writable(dir: string): Promise<boolean> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const probe = join(dir, `.cf-probe-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe);
    return true;
  } catch {
    return false;
  }
}

/**
 * The layout and login checks of `doctor`; `resolve` runs the layout-only subset to decide
 * whether a partial swap has been repaired.
 */
export async function runDoctorChecks(config: Config, options: { layoutOnly?: boolean; partialSwap?: { set: boolean; reason: string | null } } = {}): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (name: string, status: Check['status'], message: string, fix: string | null = null) => checks.push({ name, status, message, fix });

  const link = await readLink(config);
  if (link.kind === 'account') add('link', 'ok', `${config.link} → ${link.account.name} (${link.target})`);
  else if (link.kind === 'missing') add('link', 'fail', `${config.link} does not exist`, 'run `claude-failover init`');
  else if (link.kind === 'not-a-link') add('link', 'fail', `${config.link} is a real directory, not a link`, 'run `claude-failover init` to migrate it');
  else add('link', 'fail', `${config.link} points at ${link.target}, which is no configured account home`, 'run `claude-failover switch <account>` or fix the link by hand');

  if (await writable(config.sharedDir)) add('shared-dir', 'ok', `shared dir ${config.sharedDir} is writable`);
  else add('shared-dir', 'fail', `shared dir ${config.sharedDir} is missing or not writable`, 'run `claude-failover init`, or fix its permissions');

  for (const account of config.accounts) {
    const problems = await verifySharedLinks(config, account.home);
    if (problems.length === 0) add(`shared-links:${account.name}`, 'ok', `${account.name}: projects, session-env, file-history link into the shared dir`);
    else add(`shared-links:${account.name}`, 'fail', `${account.name}: ${problems.join('; ')}`, 'run `claude-failover init` (it merges a real directory into the shared dir without deleting anything)');
  }

  if (!options.layoutOnly) await loginChecks(config, add);

  if (await writable(config.stateDir)) add('state-dir', 'ok', `state dir ${config.stateDir} is writable`);
  else add('state-dir', 'fail', `state dir ${config.stateDir} is not writable`, 'fix its permissions or set stateDir');

  if (!options.layoutOnly) {
    const tmux = await runs('tmux', ['-V']);
    if (tmux) add('tmux', 'ok', tmux);
    else add('tmux', 'fail', 'tmux does not run', 'install tmux 3.0 or newer');
    const claude = await runs(config.claude.command, ['--version']);
    if (claude) add('claude', 'ok', `${config.claude.command}: ${claude}`);
    else add('claude', 'fail', `${config.claude.command} --version does not run`, 'install Claude Code, or set claude.command to its path');
  }
  if (options.partialSwap) {
    if (options.partialSwap.set) add('partial-swap', 'fail', `a partial swap is flagged: ${options.partialSwap.reason ?? ''}`, 'repair the layout, then run `claude-failover resolve`');
    else add('partial-swap', 'ok', 'no partial swap');
  }
  return checks;
}

async function loginChecks(config: Config, add: (name: string, status: Check['status'], message: string, fix?: string | null) => void): Promise<void> {
  const identities = new Map<string, string>();
  const tokens = new Map<string, string>();
  for (const account of config.accounts) {
    const file = join(account.home, '.credentials.json');
    const login = `CLAUDE_CONFIG_DIR=${account.home} ${config.claude.command}, then /login`;
    let info;
    try {
      info = await lstat(file);
    } catch {
      add(`login:${account.name}`, 'fail', `${account.name} has no login (${file} is missing)`, login);
      continue;
    }
    if (info.isSymbolicLink()) {
      add(`login:${account.name}`, 'fail', `${file} is a link: a login shared between homes logs the other out when its token rotates`, `remove the link and log in again: ${login}`);
      continue;
    }
    if (!info.isFile()) {
      add(`login:${account.name}`, 'fail', `${file} is not a regular file`, login);
      continue;
    }
    if ((info.mode & 0o077) !== 0) add(`login-mode:${account.name}`, 'warn', `${file} has mode ${(info.mode & 0o777).toString(8)}, readable by others`, `chmod 600 ${file}`);
    try {
      await access(file, constants.R_OK);
      const creds = JSON.parse(await readFile(file, 'utf8')) as { claudeAiOauth?: { refreshToken?: string; expiresAt?: number } };
      const oauth = creds.claudeAiOauth;
      if (!oauth) {
        add(`login:${account.name}`, 'warn', `${file} holds no subscription login (claudeAiOauth)`, login);
      } else if (!oauth.refreshToken && typeof oauth.expiresAt === 'number' && oauth.expiresAt < Date.now()) {
        add(`login:${account.name}`, 'fail', `${account.name}'s login expired and cannot be refreshed`, login);
      } else {
        add(`login:${account.name}`, 'ok', `${account.name} has its own login`);
        if (oauth.refreshToken) {
          const other = tokens.get(oauth.refreshToken);
          if (other) add(`login-copy:${account.name}`, 'fail', `${account.name} and ${other} hold the same refresh token: a copied login; one will be logged out`, `log ${account.name} in again on its own: ${login}`);
          else tokens.set(oauth.refreshToken, account.name);
        }
      }
    } catch {
      add(`login:${account.name}`, 'fail', `${file} cannot be read as JSON`, login);
    }
    const claudeJson: Record<string, unknown> = await readJsonObject(join(account.home, '.claude.json')).catch((): Record<string, unknown> => ({}));
    const oauthAccount = claudeJson.oauthAccount as { accountUuid?: string; emailAddress?: string } | undefined;
    const identity = oauthAccount?.accountUuid ?? oauthAccount?.emailAddress;
    if (identity) {
      const other = identities.get(identity);
      if (other) add(`identity:${account.name}`, 'fail', `${account.name} and ${other} are logged in as the same account (${oauthAccount?.emailAddress ?? identity}): failing over between them gains nothing`, `log ${account.name} in with another subscription: ${login}`);
      else identities.set(identity, account.name);
    }
  }
}
