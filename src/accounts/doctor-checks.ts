import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/types.js';
import { errnoCode } from '../errors.js';
import { readLink } from './link.js';
import { verifySharedLinks } from './shared-links.js';
import { loginChecks } from './login-checks.js';
import { readJsonObject } from './json-file.js';
import { proveDirWritable } from './write-probe.js';
import { installedClaude } from './prepare.js';
import { checkSettings, type SettingsFinding } from '../claude/settings-file.js';

import type { AddCheck, Check } from './check.js';

export type { AddCheck, Check } from './check.js';

/** The partial-swap flag as the store holds it; null when there is no state database yet. */
export type PartialSwapState = { readonly set: boolean; readonly reason: string | null } | null;

function runs(command: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 5000 }, (err, stdout) => { resolve(err ? null : stdout.trim().split('\n')[0] ?? ''); });
  });
}

/**
 * What a directory is, without creating it: doctor only looks, so a missing shared dir is
 * reported rather than quietly made (which would hide that init never ran).
 */
async function dirState(dir: string): Promise<{ state: 'writable' | 'missing' | 'not-a-directory' | 'not-writable'; why?: string }> {
  try {
    if (!(await stat(dir)).isDirectory()) return { state: 'not-a-directory' };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { state: 'missing' };
    return { state: 'not-writable', why: errnoCode(err) ?? String(err) };
  }
  try {
    await proveDirWritable(dir);
    return { state: 'writable' };
  } catch (err) {
    return { state: 'not-writable', why: errnoCode(err) ?? String(err) };
  }
}

/**
 * The layout and login checks of `doctor`; `resolve` runs the layout-only subset to decide
 * whether a partial swap has been repaired. `partialSwap` undefined leaves that check out.
 */
export async function runDoctorChecks(config: Config, options: { layoutOnly?: boolean; partialSwap?: PartialSwapState } = {}): Promise<Check[]> {
  const checks: Check[] = [];
  const add: AddCheck = (name, status, message, fix = null) => checks.push({ name, status, message, fix });

  await linkCheck(config, add);

  const shared = await dirState(config.sharedDir);
  if (shared.state === 'writable') add('shared-dir', 'ok', `shared dir ${config.sharedDir} is writable`);
  else if (shared.state === 'missing') add('shared-dir', 'fail', `shared dir ${config.sharedDir} does not exist`, 'run `claude-failover init`');
  else if (shared.state === 'not-a-directory') add('shared-dir', 'fail', `shared dir ${config.sharedDir} is not a directory`, 'move it away, then run `claude-failover init`');
  else add('shared-dir', 'fail', `shared dir ${config.sharedDir} is not writable (${shared.why ?? ''})`, 'fix its permissions (chmod, chattr -i, a read-only mount, a full disk)');

  for (const account of config.accounts) {
    const problems = await verifySharedLinks(config, account.home);
    if (problems.length === 0) add(`shared-links:${account.name}`, 'ok', `${account.name}: projects, session-env, file-history link into the shared dir`);
    else add(`shared-links:${account.name}`, 'fail', `${account.name}: ${problems.join('; ')}`, 'run `claude-failover init` (it merges a real directory into the shared dir without deleting anything)');
  }

  if (!options.layoutOnly) await loginChecks(config, add);

  const state = await dirState(config.stateDir);
  if (state.state === 'writable') add('state-dir', 'ok', `state dir ${config.stateDir} is writable`);
  else if (state.state === 'missing') add('state-dir', 'warn', `state dir ${config.stateDir} does not exist yet`, 'nothing to do: the daemon creates it when it starts');
  else add('state-dir', 'fail', `state dir ${config.stateDir} is not a writable directory${state.why ? ` (${state.why})` : ''}`, 'fix its permissions or set stateDir');

  if (!options.layoutOnly) {
    const tmux = await runs('tmux', ['-V']);
    if (tmux) add('tmux', 'ok', tmux);
    else add('tmux', 'fail', 'tmux does not run', 'install tmux 3.0 or newer');
    const claude = await runs(config.claude.command, ['--version']);
    if (claude) add('claude', 'ok', `${config.claude.command}: ${claude}`);
    else add('claude', 'fail', `${config.claude.command} --version does not run`, 'install Claude Code, or set claude.command to its path');
    await settingsChecks(config, add);
  }
  if (options.partialSwap === null) add('partial-swap', 'ok', 'no partial swap (no state database yet)');
  else if (options.partialSwap?.set) add('partial-swap', 'fail', `a partial swap is flagged: ${options.partialSwap.reason ?? ''}`, 'repair the layout, then run `claude-failover resolve`');
  else if (options.partialSwap) add('partial-swap', 'ok', 'no partial swap');
  return checks;
}

async function linkCheck(config: Config, add: AddCheck): Promise<void> {
  const link = await readLink(config);
  if (link.kind === 'missing') {
    add('link', 'fail', `${config.link} does not exist`, 'run `claude-failover init`');
  } else if (link.kind === 'not-a-link') {
    add('link', 'fail', `${config.link} is a real directory, not a link`, 'run `claude-failover init` to migrate it');
  } else if (link.kind === 'outside') {
    add('link', 'fail', `${config.link} points at ${link.target}, which is no configured account home`, 'run `claude-failover switch <account>` or fix the link by hand');
  } else if (!(await stat(link.target).then((s) => s.isDirectory(), () => false))) {
    // Unmanaged sessions follow the link: one to a home that is gone starts them logged out.
    add('link', 'fail', `${config.link} → ${link.account.name}, but ${link.target} does not exist (a dangling link)`, 'run `claude-failover init` (it creates every account home)');
  } else {
    add('link', 'ok', `${config.link} → ${link.account.name} (${link.target})`);
  }
}

/** Each account's settings.json (and .claude.json) against what the installed Claude Code accepts. */
async function settingsChecks(config: Config, add: AddCheck): Promise<void> {
  const claude = await installedClaude(config);
  const fix = 'run `claude-failover init`: it writes what the installed Claude Code accepts';
  for (const account of config.accounts) {
    if (!existsSync(account.home)) continue;
    let findings: SettingsFinding[];
    try {
      const settings = await readJsonObject(join(account.home, 'settings.json'));
      const claudeJson = await readJsonObject(join(account.home, '.claude.json'));
      findings = checkSettings(settings, claudeJson, claude, { skipBypassPrompt: config.claude.args.includes('--dangerously-skip-permissions') });
    } catch (err) {
      add(`settings:${account.name}`, 'fail', `${account.name}: ${err instanceof Error ? err.message : String(err)}`, 'fix or move the file, then run `claude-failover init`');
      continue;
    }
    const version = claude.version ? `Claude Code ${claude.version.text}` : 'Claude Code (version unknown)';
    const status = findings.some((f) => f.status === 'fail') ? 'fail' : findings.some((f) => f.status === 'warn') ? 'warn' : 'ok';
    const said = findings.map((f) => f.message).join('; ');
    add(`settings:${account.name}`, status, `${account.name}: settings ${status === 'ok' ? 'fit' : 'do not fit'} ${version}${said ? `: ${said}` : ''}`, status === 'ok' ? null : fix);
  }
}
