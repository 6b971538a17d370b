import { chmod, mkdir, realpath, rename, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import type { Account, Config } from '../config/types.js';
import type { InstalledCommands } from '../claude/self-command.js';
import { mergeSettings, seedClaudeJson } from '../claude/settings-file.js';
import { claudeCapabilities, type ClaudeCapabilities } from '../claude/claude-version.js';
import { readJsonObject, writeJsonAtomic } from './json-file.js';
import { clearListening, HOOK_PATH, publishListening, resolveHookEndpoint, type HookEndpoint } from './hook-endpoint.js';
import { findBash, scriptIsCurrent, STATUSLINE_SCRIPT, STATUSLINE_SCRIPT_NAME } from '../relay/statusline-script.js';
import { tempPathFor } from '../temp-path.js';

/** The project folders the pool launches in: each must be trusted in every account. */
export function poolProjects(config: Config): string[] {
  const dirs = config.pool.dedicated.map((d) => d.project);
  if (config.pool.autonomous.max > 0) dirs.unshift(config.pool.autonomous.project);
  return [...new Set(dirs)];
}

/** What the installed Claude Code (`claude.command --version`, asked once) accepts. */
export function installedClaude(config: Config): Promise<ClaudeCapabilities> {
  return claudeCapabilities(config.claude.command, { env: config.claude.env });
}

function skipsBypassPrompt(config: Config): boolean {
  return config.claude.args.includes('--dangerously-skip-permissions');
}

export interface PrepareOptions {
  readonly dryRun?: boolean;
  /** What the installed Claude Code accepts (default: asked with `--version`). */
  readonly claude?: ClaudeCapabilities;
}

/**
 * Readies an account home so a launch never stops at onboarding, the trust dialog or the
 * bypass prompt, keeps transcripts from being cleaned up, and reports to the daemon (over
 * HTTP where the installed version can and the daemon's listener is known, else through
 * the hook command). Writes only what the installed version accepts.
 * Returns what changed (nothing on a second run).
 */
export async function prepareAccount(config: Config, account: Account, commands: InstalledCommands, options: PrepareOptions = {}): Promise<string[]> {
  const changed: string[] = [];
  const claude = options.claude ?? (await installedClaude(config));
  if (!options.dryRun) await mkdir(account.home, { recursive: true, mode: 0o700 });
  const trusted: string[] = [];
  for (const dir of poolProjects(config)) {
    if (!options.dryRun) await mkdir(dir, { recursive: true });
    trusted.push(await realpath(dir).catch(() => dir));
  }
  const skipBypassPrompt = skipsBypassPrompt(config);
  const claudeJsonPath = join(account.home, '.claude.json');
  const claudeJson = await readJsonObject(claudeJsonPath);
  const seeded = seedClaudeJson(claudeJson, trusted, { bypassAccepted: skipBypassPrompt && claude.bypassKey !== 'settings' });
  if (!isDeepStrictEqual(seeded, claudeJson)) {
    if (!options.dryRun) await writeJsonAtomic(claudeJsonPath, seeded);
    changed.push(`${claudeJsonPath}: onboarding done, ${trusted.length} project folder(s) trusted`);
  }
  changed.push(...(await writeHookSettings(config, account, commands, claude, options.dryRun === true)));
  return changed;
}

async function writeHookSettings(config: Config, account: Account, commands: InstalledCommands, claude: ClaudeCapabilities, dryRun: boolean): Promise<string[]> {
  const settingsPath = join(account.home, 'settings.json');
  const settings = await readJsonObject(settingsPath);
  // The listener serves the statusline script whatever the version; hooks use it where the version can.
  const endpoint = resolveHookEndpoint(config, { create: !dryRun });
  const statusLineScript = endpoint ? await statusLineScriptFor(config, endpoint, dryRun) : null;
  const merged = mergeSettings(settings, commands, { skipBypassPrompt: skipsBypassPrompt(config), claude, endpoint, statusLineScript });
  const holdsToken = endpoint !== null && claude.httpHooks;
  if (isDeepStrictEqual(merged, settings)) {
    // Unchanged, but a copy restored or edited by hand may have come back readable by others.
    if (holdsToken && !dryRun) await tightenToOwner(settingsPath);
    return [];
  }
  // settings.json holds the hook token when hooks go over HTTP: written 0600 from its first byte.
  if (!dryRun) await writeJsonAtomic(settingsPath, merged, holdsToken ? { mode: 0o600 } : {});
  const how = endpoint && claude.httpHooks ? `hooks over HTTP to ${endpoint.url}` : 'hook commands';
  return [`${settingsPath}: ${how}, statusline and cleanupPeriodDays installed for Claude Code ${claude.version?.text ?? '(version unknown)'}`];
}

/** The bash statusline (written into the state dir, 0700) when bash is there; else null (the Node relay). */
async function statusLineScriptFor(config: Config, endpoint: HookEndpoint, dryRun: boolean): Promise<{ bash: string; script: string; baseUrl: string } | null> {
  const bash = findBash();
  if (!bash) return null;
  const script = join(config.stateDir, STATUSLINE_SCRIPT_NAME);
  if (!dryRun && !scriptIsCurrent(script)) {
    const temp = tempPathFor(script);
    await writeFile(temp, STATUSLINE_SCRIPT, { mode: 0o700 });
    await chmod(temp, 0o700);
    await rename(temp, script);
  }
  return { bash, script, baseUrl: endpoint.url.slice(0, -HOOK_PATH.length) };
}

/**
 * Rewrites the hooks of every existing account home for the daemon's listener as it is now
 * (its bound port, or none): the daemon calls it once its HTTP listener is up. Creates no
 * home; a home that cannot be written is reported, not thrown.
 */
export async function refreshHookSettings(config: Config, commands: InstalledCommands, report: (account: string, line: string) => void): Promise<void> {
  const claude = await installedClaude(config);
  for (const warning of claude.warnings) report('*', warning);
  for (const account of config.accounts) {
    if (!existsSync(account.home)) continue;
    try {
      for (const line of await writeHookSettings(config, account, commands, claude, false)) report(account.name, line);
    } catch (err) {
      report(account.name, `settings not updated: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/**
 * Called by the daemon once its HTTP listener is up: publishes the bound address (so a
 * listener on port 0 is reachable too, and `init` run meanwhile writes the same), and
 * points every account's hooks at it. Returns the clean-up for the daemon's stop.
 */
export async function announceHookListener(config: Config, boundUrl: string, commands: InstalledCommands, report: (account: string, line: string) => void): Promise<() => void> {
  const loopback = boundUrl.replace(/^http:\/\/0\.0\.0\.0:/, 'http://127.0.0.1:').replace(/^http:\/\/\[::\]:/, 'http://[::1]:');
  publishListening(config.stateDir, loopback);
  await refreshHookSettings(config, commands, report);
  return () => { clearListening(config.stateDir); };
}

/** Makes a file holding a secret readable by its owner only (no-op when it already is). */
async function tightenToOwner(path: string): Promise<void> {
  const { mode } = await stat(path);
  if ((mode & 0o077) !== 0) await chmod(path, mode & 0o700);
}
