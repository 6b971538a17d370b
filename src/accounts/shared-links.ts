import { lstat, mkdir, readdir, readlink, realpath, rename, stat, symlink, unlink } from 'node:fs/promises';
import { access, constants } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve, basename } from 'node:path';
import type { Config } from '../config/types.js';
import { errnoCode } from '../errors.js';
import { plantedLinkProblem } from '../planted-link.js';
import { isSameOrInside } from '../config/paths.js';
import { mergeInto, removeEmptyTree } from './merge-dir.js';
import { SharedLinkError, sharedLinkFault } from './shared-link-error.js';

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

/** Replaces whatever is at `path` with a link to `target`, atomically (temp link + rename). */
async function placeLink(path: string, target: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.cf-link-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await symlink(target, temp);
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw sharedLinkFault(path, 'cannot link', err);
  }
}

/**
 * Makes sure the shared target is a directory, checking before creating: `mkdir -p` would
 * only say EEXIST about a file in the way, and a dry run must create nothing.
 */
async function ensureSharedTarget(target: string, dry: boolean): Promise<void> {
  let info;
  try {
    info = await stat(target);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw sharedLinkFault(target, 'cannot use', err);
    if (dry) return;
    try {
      await mkdir(target, { recursive: true, mode: 0o700 });
    } catch (mkdirErr) {
      throw sharedLinkFault(target, 'cannot create', mkdirErr);
    }
    return;
  }
  if (!info.isDirectory()) {
    throw new SharedLinkError('NOT_A_DIRECTORY', target, `${target} should be a directory but is a file; move it away and run init again`);
  }
}

/**
 * Why the shared dir is refused: a symbolic link at `sharedDir` itself may have been planted
 * to send every conversation elsewhere, so it is never followed (null: a directory, or not
 * there yet). Links inside it (e.g. `projects` on another disk) are the owner's own layout.
 */
export function sharedDirProblem(config: Config): string | null {
  return plantedLinkProblem(config.sharedDir, 'shared dir', 'shares conversations only through', 'sharedDir');
}

/** Throws SHARED_LINK_SHARED_DIR_IS_LINK for a shared dir that is a symbolic link. */
export function refuseLinkedSharedDir(config: Config): void {
  const problem = sharedDirProblem(config);
  if (problem !== null) throw new SharedLinkError('SHARED_DIR_IS_LINK', config.sharedDir, problem);
}

/**
 * Makes `<accountHome>/<name>` a link into the shared dir for each required name: creates
 * it, leaves a right one alone, replaces a wrong or dangling one, and merges a real
 * directory into the shared target (no file is ever deleted) before replacing it; with
 * `mergeLinked` (init), the files of a wrong link's directory elsewhere merge in too.
 * A shared dir that is itself a symbolic link is refused. Faults are `SharedLinkError`s naming the path, with a code by cause.
 */
export async function ensureSharedLinks(config: Config, accountHome: string, options: { dryRun?: boolean; mergeLinked?: boolean } = {}): Promise<EnsureReport> {
  const report: EnsureReport = { actions: [], conflicts: [] };
  const dry = options.dryRun === true;
  refuseLinkedSharedDir(config);
  for (const { name, target } of requiredShared(config)) {
    await ensureSharedTarget(target, dry);
    const path = join(accountHome, name);
    try {
      report.actions.push({ name, ...(await ensureOne(path, target, accountHome, { dry, mergeLinked: options.mergeLinked === true }, report.conflicts)) });
    } catch (err) {
      throw sharedLinkFault(path, 'cannot make the shared link', err);
    }
  }
  return report;
}

async function ensureOne(path: string, target: string, accountHome: string, how: { dry: boolean; mergeLinked: boolean }, conflicts: string[]): Promise<Omit<EnsureReport['actions'][number], 'name'>> {
  const dry = how.dry;
  let info;
  try {
    info = await lstat(path);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw sharedLinkFault(path, 'cannot read', err);
    if (!dry) await placeLink(path, target);
    return { action: 'created' };
  }
  if (info.isSymbolicLink()) {
    const current = resolve(dirname(path), await readlink(path));
    if (current === target) return { action: 'ok' };
    // A link to a directory of files elsewhere (another disk, an old shared dir): replacing it
    // alone would hide them, so init merges them into the shared target first. A swap leaves
    // them where they are (a copy across disks has no place in a swap).
    const elsewhere = how.mergeLinked ? await filesElsewhere(current, target) : null;
    if (elsewhere === null) {
      if (!dry) await placeLink(path, target);
      return { action: 'replaced', detail: `was a link to ${current}` };
    }
    if (dry) return { action: 'merged', detail: `would merge ${elsewhere} (where ${path} pointed) into ${target}` };
    const moved = await mergeInto(elsewhere, target, basename(accountHome).replace(/^\./, ''), conflicts);
    await placeLink(path, target);
    return { action: 'merged', detail: `${String(moved)} entr${moved === 1 ? 'y' : 'ies'} of ${elsewhere}, where it pointed, moved into ${target}` };
  }
  if (!info.isDirectory()) {
    throw new SharedLinkError('NOT_A_DIRECTORY', path, `${path} is a file where a directory or link should be; move it away and run init again`);
  }
  if (dry) return { action: 'merged', detail: `would merge ${path} into ${target}` };
  const moved = await mergeInto(path, target, basename(accountHome).replace(/^\./, ''), conflicts);
  const aside = `${path}.cf-merged-${Date.now()}`;
  await rename(path, aside);
  await placeLink(path, target);
  if (!(await removeEmptyTree(aside))) conflicts.push(`${aside} still holds files that could not be merged; nothing was deleted`);
  return { action: 'merged', detail: `${moved} entr${moved === 1 ? 'y' : 'ies'} moved into ${target}` };
}

/**
 * The real path of the directory a wrong link points at when it holds files of its own: not
 * the shared target itself (reached by another path), not inside it nor around it (null).
 */
async function filesElsewhere(current: string, target: string): Promise<string | null> {
  try {
    // The target may not exist yet (a dry run, init's guard): then its own path is compared.
    const [from, to] = [await realpath(current), await realpath(target).catch(() => resolve(target))];
    if (isSameOrInside(from, to) || isSameOrInside(to, from)) return null;
    if (!(await stat(from)).isDirectory()) return null;
    return (await readdir(from)).length > 0 ? from : null;
  } catch {
    return null; // dangling or unreadable: nothing reachable to keep
  }
}

/**
 * The directory of files elsewhere that `path`, a wrong link to it, points at: what init's
 * `mergeLinked` would move into `target` (null: not a link, or nothing of its own to move).
 */
export async function filesBehindLink(path: string, target: string): Promise<string | null> {
  try {
    if (!(await lstat(path)).isSymbolicLink()) return null;
    const current = resolve(dirname(path), await readlink(path));
    return current === target ? null : await filesElsewhere(current, target);
  } catch {
    return null;
  }
}

/** What is wrong with an account home's shared links (empty when all is right). */
export async function verifySharedLinks(config: Config, accountHome: string): Promise<string[]> {
  const planted = sharedDirProblem(config);
  if (planted !== null) return [planted];
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
