import { mkdir, realpath } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { join } from 'node:path';
import type { Account, Config } from '../config/types.js';
import type { InstalledCommands } from '../cli/self-command.js';
import { mergeSettings, seedClaudeJson } from '../claude/settings-file.js';
import { readJsonObject, writeJsonAtomic } from './json-file.js';

/** The project folders the pool launches in: each must be trusted in every account. */
export function poolProjects(config: Config): string[] {
  const dirs = config.pool.dedicated.map((d) => d.project);
  if (config.pool.autonomous.max > 0) dirs.unshift(config.pool.autonomous.project);
  return [...new Set(dirs)];
}

/**
 * Readies an account home so a launch never stops at onboarding, the trust dialog or the
 * bypass prompt, keeps transcripts from being cleaned up, and reports to the daemon.
 * Returns what changed (nothing on a second run).
 */
export async function prepareAccount(config: Config, account: Account, commands: InstalledCommands, options: { dryRun?: boolean } = {}): Promise<string[]> {
  const changed: string[] = [];
  if (!options.dryRun) await mkdir(account.home, { recursive: true, mode: 0o700 });
  const trusted: string[] = [];
  for (const dir of poolProjects(config)) {
    if (!options.dryRun) await mkdir(dir, { recursive: true });
    trusted.push(await realpath(dir).catch(() => dir));
  }
  const claudeJsonPath = join(account.home, '.claude.json');
  const claudeJson = await readJsonObject(claudeJsonPath);
  const seeded = seedClaudeJson(claudeJson, trusted);
  if (!isDeepStrictEqual(seeded, claudeJson)) {
    if (!options.dryRun) await writeJsonAtomic(claudeJsonPath, seeded);
    changed.push(`${claudeJsonPath}: onboarding done, ${trusted.length} project folder(s) trusted`);
  }
  const settingsPath = join(account.home, 'settings.json');
  const settings = await readJsonObject(settingsPath);
  const merged = mergeSettings(settings, commands, { skipBypassPrompt: config.claude.args.includes('--dangerously-skip-permissions') });
  if (!isDeepStrictEqual(merged, settings)) {
    if (!options.dryRun) await writeJsonAtomic(settingsPath, merged);
    changed.push(`${settingsPath}: hooks, statusline and cleanupPeriodDays installed`);
  }
  return changed;
}
