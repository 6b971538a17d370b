import { lstat, mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Account, Config } from '../config/types.js';
import type { InstalledCommands } from '../claude/self-command.js';
import type { ClaudeCapabilities } from '../claude/claude-version.js';
import { FailoverError } from '../errors.js';
import { flipLink, readLink } from './link.js';
import { SHARED_NAMES, ensureSharedLinks, refuseLinkedSharedDir } from './shared-links.js';
import { prepareAccount } from './prepare.js';
import { mergeInto, moveKeepingBoth, removeEmptyTree } from './merge-dir.js';
import { readJsonObject, writeJsonAtomic } from './json-file.js';
import { isLinkToDirectory, migrateLinkedShared, refuseWhileClaudeRuns } from './init-guards.js';

/**
 * Left in the first account's home once `~/.claude.json` has been merged into its own: the
 * merge happens once, so keys Claude Code (or the person) later drops are not copied back on
 * every init.
 */
export const CLAUDE_JSON_MERGED_MARK = '.claude.json.merged-by-claude-failover';

export interface InitOptions {
  readonly dryRun: boolean;
  readonly commands: InstalledCommands;
  readonly log: (line: string) => void;
  /** What the installed Claude Code accepts (default: asked with `claude.command --version`). */
  readonly claude?: ClaudeCapabilities;
}

/**
 * Sets up (or repairs) the layout: the shared dir, every account home with its shared
 * links and settings, and the link. A real `~/.claude` is migrated into the first account
 * without losing a file. Running it again changes nothing.
 */
export async function runInit(config: Config, options: InitOptions): Promise<{ steps: string[]; loginNeeded: Account[] }> {
  const steps: string[] = [];
  const step = (line: string) => {
    steps.push(line);
    options.log(`${options.dryRun ? 'would: ' : ''}${line}`);
  };
  const dry = options.dryRun;
  const first = config.accounts[0];
  if (!first) throw new FailoverError('NO_ACCOUNTS', 'no accounts configured');
  refuseLinkedSharedDir(config);
  const link = await readLink(config);
  const running = await refuseWhileClaudeRuns(config, link, dry);
  if (running !== null) options.log(running);

  if (!existsSync(config.sharedDir)) {
    step(`create the shared dir ${config.sharedDir}`);
    if (!dry) await mkdir(config.sharedDir, { recursive: true, mode: 0o700 });
  }
  for (const account of config.accounts) {
    if (!existsSync(account.home)) {
      step(`create the home of ${account.name}: ${account.home}`);
      if (!dry) await mkdir(account.home, { recursive: true, mode: 0o700 });
    }
  }

  if (link.kind === 'not-a-link') {
    const info = await lstat(config.link);
    if (!info.isDirectory()) throw new FailoverError('LINK_IS_FILE', `${config.link} is a file, not a directory or a link; move it away and run init again`);
    step(`migrate the real directory ${config.link} into ${first.name} (${first.home}); its projects/, session-env/ and file-history/ into ${config.sharedDir}`);
    if (!dry) await migrateRealClaudeDir(config, first, step);
  }

  const outsideJson = join(config.home, '.claude.json');
  const mark = join(first.home, CLAUDE_JSON_MERGED_MARK);
  if (existsSync(outsideJson) && !existsSync(mark)) {
    const accountJsonPath = join(first.home, '.claude.json');
    const outside = await readJsonObject(outsideJson);
    const inside = await readJsonObject(accountJsonPath);
    const missing = Object.keys(outside).filter((k) => !(k in inside));
    step(`copy ${missing.length} key(s) of ${outsideJson} into ${accountJsonPath}, once (the original stays)`);
    if (!dry) {
      if (missing.length > 0) await writeJsonAtomic(accountJsonPath, { ...outside, ...inside });
      await writeFile(mark, `claude-failover merged ${outsideJson} into ${accountJsonPath} on ${new Date().toISOString()}; it does not do it again.\n`, { mode: 0o600 });
    }
  }

  for (const account of config.accounts) {
    const report = await ensureSharedLinks(config, account.home, { dryRun: dry, mergeLinked: true });
    for (const a of report.actions) if (a.action !== 'ok') step(`${account.name}: ${a.name} ${a.action}${a.detail ? ` (${a.detail})` : ''}`);
    for (const c of report.conflicts) step(`${account.name}: name clash, both kept: ${c}`);
    for (const change of await prepareAccount(config, account, options.commands, { dryRun: dry, ...(options.claude ? { claude: options.claude } : {}) })) step(change);
  }

  const after = dry ? link : await readLink(config);
  if (after.kind === 'missing' || (dry && link.kind === 'not-a-link')) {
    step(`point ${config.link} at ${first.name} (${first.home})`);
    if (!dry) await flipLink(config, first.home);
  } else if (after.kind === 'outside') {
    step(`note: ${config.link} points at ${after.target}, outside the configured accounts; left as it is (run \`claude-failover switch\` to move it)`);
  }

  // A dry run has not moved the real ~/.claude yet: its login is the first account's to be.
  const migratedLogin = dry && link.kind === 'not-a-link' && existsSync(join(config.link, '.credentials.json'));
  const loginNeeded = config.accounts.filter((a) => !existsSync(join(a.home, '.credentials.json')) && !(migratedLogin && a === first));
  return { steps, loginNeeded };
}

/**
 * Moves a real `~/.claude` into the first account: the shared names merge into the shared
 * dir, everything else (credentials, settings, .claude.json...) into the home. Nothing is
 * overwritten; every name clash goes through `step`, like any other change (Invariant 3).
 */
async function migrateRealClaudeDir(config: Config, first: Account, step: (line: string) => void): Promise<void> {
  const clashes: string[] = [];
  try {
    for (const name of await readdir(config.link)) {
      const from = join(config.link, name);
      const sharedName = (SHARED_NAMES as readonly string[]).includes(name);
      if (sharedName && (await lstat(from)).isDirectory()) await mergeInto(from, join(config.sharedDir, name), 'migrated', clashes);
      else if (sharedName && (await isLinkToDirectory(from))) await migrateLinkedShared(from, join(config.sharedDir, name), clashes, step);
      else await moveKeepingBoth(from, join(first.home, name), 'migrated', clashes);
    }
    const aside = `${config.link}.cf-migrated-${Date.now()}`;
    await rename(config.link, aside);
    await flipLink(config, first.home);
    if (!(await removeEmptyTree(aside))) clashes.push(`${aside} keeps what could not be moved; nothing was deleted`);
  } finally {
    // Reported even when the migration stops half-way: the person must know where each file went.
    for (const clash of clashes) step(`name clash, both kept: ${clash}`);
  }
}
