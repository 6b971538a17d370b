import { lstat, mkdir, readlink, rename, symlink, unlink } from 'node:fs/promises';
import { access, constants } from 'node:fs/promises';
import { dirname, join, resolve, basename } from 'node:path';
import type { Config } from '../config/types.js';
import { FailoverError, errnoCode } from '../errors.js';
import { mergeInto, removeEmptyTree } from './merge-dir.js';

/** The state every account home shares through links, so a conversation resumes anywhere. */
export const SHARED_NAMES = ['projects', 'session-env', 'file-history'] as const;
export type SharedName = (typeof SHARED_NAMES)[number];

export interface SharedLink {
  readonly name: SharedName;
  /** Absolute, under the one sharedDir. */
  readonly target: string;
}

export function requiredShared(config: Config): SharedLink[] {
  return SHARED_NAMES.map((name) => ({ name, target: resolve(config.sharedDir, name) }));
}

export interface EnsureReport {
  readonly actions: { readonly name: SharedName; readonly action: 'created' | 'ok' | 'replaced' | 'merged'; readonly detail?: string }[];
  readonly conflicts: string[];
}

function fault(path: string, what: string, err: unknown): FailoverError {
  return new FailoverError('SHARED_LINK_FAILED', `${what} ${path}: ${errnoCode(err) ?? (err instanceof Error ? err.message : String(err))}`, { cause: err });
}

/** Replaces whatever is at `path` with a link to `target`, atomically (temp link + rename). */
async function placeLink(path: string, target: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.cf-link-${process.pid}-${Date.now()}`);
  try {
    await symlink(target, temp);
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw fault(path, 'cannot link', err);
  }
}

/**
 * Makes `<accountHome>/<name>` a link into the shared dir for each required name: creates
 * it, leaves a right one alone, replaces a wrong or dangling one, and merges a real
 * directory into the shared target (no file is ever deleted) before replacing it.
 */
export async function ensureSharedLinks(config: Config, accountHome: string, options: { dryRun?: boolean } = {}): Promise<EnsureReport> {
  const report: EnsureReport = { actions: [], conflicts: [] };
  const dry = options.dryRun === true;
  for (const { name, target } of requiredShared(config)) {
    const path = join(accountHome, name);
    try {
      if (!dry) await mkdir(target, { recursive: true, mode: 0o700 });
      const targetInfo = await lstat(target).catch(() => null);
      if (targetInfo && !targetInfo.isDirectory()) throw new FailoverError('SHARED_LINK_FAILED', `${target} should be a directory but is a file`);
    } catch (err) {
      if (err instanceof FailoverError) throw err;
      throw fault(target, 'cannot create', err);
    }
    let info;
    try {
      info = await lstat(path);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw fault(path, 'cannot read', err);
      if (!dry) await placeLink(path, target);
      report.actions.push({ name, action: 'created' });
      continue;
    }
    if (info.isSymbolicLink()) {
      const current = resolve(dirname(path), await readlink(path));
      if (current === target) {
        report.actions.push({ name, action: 'ok' });
        continue;
      }
      if (!dry) await placeLink(path, target);
      report.actions.push({ name, action: 'replaced', detail: `was a link to ${current}` });
      continue;
    }
    if (!info.isDirectory()) throw new FailoverError('SHARED_LINK_FAILED', `${path} is a file where a directory or link should be; move it away and run init again`);
    if (dry) {
      report.actions.push({ name, action: 'merged', detail: `would merge ${path} into ${target}` });
      continue;
    }
    try {
      const moved = await mergeInto(path, target, basename(accountHome).replace(/^\./, ''), report.conflicts);
      const aside = `${path}.cf-merged-${Date.now()}`;
      await rename(path, aside);
      await placeLink(path, target);
      const gone = await removeEmptyTree(aside);
      if (!gone) report.conflicts.push(`${aside} still holds files that could not be merged; nothing was deleted`);
      report.actions.push({ name, action: 'merged', detail: `${moved} entr${moved === 1 ? 'y' : 'ies'} moved into ${target}` });
    } catch (err) {
      if (err instanceof FailoverError) throw err;
      throw fault(path, 'cannot merge', err);
    }
  }
  return report;
}

/** What is wrong with an account home's shared links (empty when all is right). */
export async function verifySharedLinks(config: Config, accountHome: string): Promise<string[]> {
  const problems: string[] = [];
  for (const { name, target } of requiredShared(config)) {
    const path = join(accountHome, name);
    try {
      const info = await lstat(path);
      if (!info.isSymbolicLink()) {
        problems.push(`${path} is a real ${info.isDirectory() ? 'directory' : 'file'}, not a link into ${config.sharedDir}`);
        continue;
      }
      const current = resolve(dirname(path), await readlink(path));
      if (current !== target) problems.push(`${path} points at ${current}, not ${target}`);
      else await access(target, constants.W_OK);
    } catch (err) {
      problems.push(`${path}: ${errnoCode(err) === 'ENOENT' ? 'missing or dangling' : (errnoCode(err) ?? String(err))}`);
    }
  }
  return problems;
}
