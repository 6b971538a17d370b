import { lstat, mkdir, realpath, stat, symlink, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Config } from '../config/types.js';
import { FailoverError } from '../errors.js';
import type { LinkState } from './link.js';
import { mergeInto } from './merge-dir.js';
import { runningClaudeSessions } from './running-claude.js';
import { filesBehindLink, requiredShared } from './shared-links.js';

/** A change init must make during which a path Claude Code reads is missing for a moment. */
interface Gap {
  /** The config home whose sessions would see the gap. */
  readonly home: string;
  readonly what: string;
}

async function isRealDirectory(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The changes that cannot be made without a moment where a path is missing: moving a real
 * `~/.claude` aside for the link (its entries leave one by one, then the directory), and
 * merging an account home's real `projects/`, `session-env/` or `file-history/` into the
 * shared dir (the directory goes before its link comes), or the files of a directory elsewhere
 * that such a name links to (they leave it one by one before the link is replaced).
 */
async function gapsOf(config: Config, link: LinkState): Promise<Gap[]> {
  const gaps: Gap[] = [];
  if (link.kind === 'not-a-link' && (await isRealDirectory(config.link))) gaps.push({ home: config.link, what: `${config.link} moves into ${config.accounts[0]?.home ?? 'the first account'}` });
  for (const account of config.accounts) {
    for (const { name, target } of requiredShared(config)) {
      const path = join(account.home, name);
      if (await isRealDirectory(path)) gaps.push({ home: account.home, what: `${path} merges into ${target}` });
      else {
        // A link to files elsewhere: init moves them into the shared dir (mergeLinked) under the session.
        const elsewhere = await filesBehindLink(path, target);
        if (elsewhere !== null) gaps.push({ home: account.home, what: `${elsewhere} (linked from ${path}) merges into ${target}` });
      }
    }
  }
  return gaps;
}

/**
 * Refuses (`CLAUDE_RUNNING`) when init must make a change with a gap while Claude Code runs on
 * the home it touches: that session would find its transcripts, its login or its settings
 * missing for a moment. Returns the note a dry run prints instead (null: nothing in the way).
 */
export async function refuseWhileClaudeRuns(config: Config, link: LinkState, dryRun: boolean): Promise<string | null> {
  const gaps = await gapsOf(config, link);
  if (gaps.length === 0) return null;
  const running = await runningClaudeSessions([...new Set(gaps.map((g) => g.home))]);
  if (running.length === 0) return null;
  const on = [...new Set(running.map((r) => r.home))].map((home) => `${home} (pid ${running.filter((r) => r.home === home).map((r) => String(r.pid)).join(', ')})`);
  const message =
    `init must make changes during which Claude Code would find a path missing for a moment (${gaps.map((g) => g.what).join('; ')}), ` +
    `and Claude Code is running on ${on.join(', ')}: quit those sessions (and stop the claude-failover daemon if it runs), then run init again`;
  if (dryRun) return `note: ${message}`;
  throw new FailoverError('CLAUDE_RUNNING', message);
}

/**
 * A `projects/` (or other shared name) of a real `~/.claude` that is a symbolic link to a
 * directory elsewhere (often another disk): its transcripts must stay visible. With nothing
 * in the shared dir under that name yet, the shared dir takes the link (the transcripts stay
 * where they are); otherwise they merge into the shared one. Either way the old link goes.
 */
export async function migrateLinkedShared(from: string, to: string, clashes: string[], step: (line: string) => void): Promise<void> {
  const where = await realpath(from);
  let taken = true;
  try {
    await lstat(to);
  } catch {
    taken = false;
  }
  if (!taken) {
    await mkdir(dirname(to), { recursive: true, mode: 0o700 });
    await symlink(where, to);
    step(`${to} links to ${where}, where ${from} pointed: its files stay there and stay visible`);
  } else {
    const moved = await mergeInto(from, to, 'migrated', clashes);
    step(`merged ${String(moved)} entr${moved === 1 ? 'y' : 'ies'} of ${where} (linked from ${from}) into ${to}`);
  }
  await unlink(from);
}

/** Whether `path` is a symbolic link to a directory. */
export async function isLinkToDirectory(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSymbolicLink() && (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
