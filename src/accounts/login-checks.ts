import { readRegularFile } from '../regular-file.js';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Account, Config } from '../config/types.js';
import { shellQuote } from '../claude/shell-quote.js';
import { readJsonObject } from './json-file.js';
import { loginCommand } from './login-command.js';
import type { AddCheck } from './check.js';

interface OauthLogin {
  refreshToken?: unknown;
  expiresAt?: unknown;
}

/**
 * Each home's own login, then one identity per home. Failing over between two homes logged
 * in as the same subscription gains nothing, and a copied refresh token logs one of them out
 * at its next rotation; both are fails.
 */
export async function loginChecks(config: Config, add: AddCheck): Promise<void> {
  const tokens = new Map<string, string>();
  const uuids = new Map<string, string>();
  const emails = new Map<string, string>();
  for (const account of config.accounts) {
    const login = `${loginCommand(config, account)}, then /login`;
    const refreshToken = await credentialsCheck(account, login, add);
    if (refreshToken !== null) {
      const other = tokens.get(refreshToken);
      if (other) add(`login-copy:${account.name}`, 'fail', `${account.name} and ${other} hold the same refresh token: a copied login; one will be logged out`, `log ${account.name} in again on its own: ${login}`);
      else tokens.set(refreshToken, account.name);
    }
    // Checked whatever the state of the credentials file: .claude.json says who the home was logged in as.
    await identityCheck(account, login, { uuids, emails }, add);
  }
}

/** Checks `.credentials.json`; returns its refresh token when it holds one. */
async function credentialsCheck(account: Account, login: string, add: AddCheck): Promise<string | null> {
  const file = join(account.home, '.credentials.json');
  let info;
  try {
    info = await lstat(file);
  } catch {
    add(`login:${account.name}`, 'fail', `${account.name} has no login (${file} is missing)`, login);
    return null;
  }
  if (info.isSymbolicLink()) {
    add(`login:${account.name}`, 'fail', `${file} is a link: a login shared between homes logs the other out when its token rotates`, `remove the link and log in again: ${login}`);
    return null;
  }
  if (!info.isFile()) {
    add(`login:${account.name}`, 'fail', `${file} is not a regular file`, login);
    return null;
  }
  const mode = info.mode & 0o777;
  if (mode !== 0o600) {
    const why = (mode & 0o077) !== 0 ? ': a login others on this host can read' : '';
    add(`login-mode:${account.name}`, 'fail', `${file} has mode ${mode.toString(8)}, not 600${why}`, `chmod 600 ${shellQuote(file)}`);
  }
  let oauth: OauthLogin | undefined;
  try {
    oauth = (JSON.parse((await readRegularFile(file)) ?? '{}') as { claudeAiOauth?: OauthLogin }).claudeAiOauth;
  } catch {
    add(`login:${account.name}`, 'fail', `${file} cannot be read as JSON`, login);
    return null;
  }
  if (!oauth) {
    add(`login:${account.name}`, 'warn', `${file} holds no subscription login (claudeAiOauth)`, login);
    return null;
  }
  const refreshToken = typeof oauth.refreshToken === 'string' && oauth.refreshToken !== '' ? oauth.refreshToken : null;
  if (refreshToken === null && typeof oauth.expiresAt === 'number' && oauth.expiresAt < Date.now()) {
    add(`login:${account.name}`, 'fail', `${account.name}'s login expired and cannot be refreshed`, login);
    return null;
  }
  add(`login:${account.name}`, 'ok', `${account.name} has its own login`);
  return refreshToken;
}

/** accountUuid and email are compared separately: a home may record one without the other. */
async function identityCheck(account: Account, login: string, seen: { uuids: Map<string, string>; emails: Map<string, string> }, add: AddCheck): Promise<void> {
  const path = join(account.home, '.claude.json');
  let claudeJson: Record<string, unknown>;
  try {
    claudeJson = await readJsonObject(path);
  } catch (err) {
    add(`identity:${account.name}`, 'warn', `${path} cannot be read: ${err instanceof Error ? err.message : String(err)}`, null);
    return;
  }
  const oauthAccount = typeof claudeJson.oauthAccount === 'object' && claudeJson.oauthAccount !== null ? (claudeJson.oauthAccount as Record<string, unknown>) : {};
  const uuid = typeof oauthAccount.accountUuid === 'string' && oauthAccount.accountUuid !== '' ? oauthAccount.accountUuid : null;
  const email = typeof oauthAccount.emailAddress === 'string' && oauthAccount.emailAddress !== '' ? oauthAccount.emailAddress.toLowerCase() : null;
  const byUuid = uuid === null ? undefined : seen.uuids.get(uuid);
  const byEmail = email === null ? undefined : seen.emails.get(email);
  const other = byUuid ?? byEmail;
  if (other !== undefined) {
    const what = byUuid !== undefined ? `accountUuid ${uuid ?? ''}` : `email ${email ?? ''}`;
    add(`identity:${account.name}`, 'fail', `${account.name} and ${other} are logged in as the same account (${what}): failing over between them gains nothing`, `log ${account.name} in with another subscription: ${login}`);
  } else {
    add(`identity:${account.name}`, 'ok', uuid === null && email === null ? `${account.name}: no account identity recorded yet` : `${account.name} is logged in as ${email ?? uuid ?? ''}`);
  }
  if (uuid && !seen.uuids.has(uuid)) seen.uuids.set(uuid, account.name);
  if (email && !seen.emails.has(email)) seen.emails.set(email, account.name);
}
