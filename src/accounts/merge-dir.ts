import { cp, lstat, mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { errnoCode } from '../errors.js';

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** A free name beside `path` for a newcomer that clashes: `<name>.from-<tag>[-n]`. */
async function freeName(path: string, tag: string): Promise<string> {
  for (let n = 0; ; n++) {
    const candidate = `${path}.from-${tag}${n === 0 ? '' : `-${n}`}`;
    if (!(await exists(candidate))) return candidate;
  }
}

async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if (errnoCode(err) !== 'EXDEV') throw err;
    // Another filesystem: copy first, remove the source only once the copy is complete.
    await cp(from, to, { recursive: true, preserveTimestamps: true, errorOnExist: true, force: false });
    await rm(from, { recursive: true });
  }
}

/**
 * Moves one entry to `to`, never deleting or overwriting: directories on both sides merge,
 * any other clash keeps both (the newcomer gets a `.from-<tag>` suffix) and is reported in
 * `clashes`. Returns how many entries moved.
 */
export async function moveKeepingBoth(from: string, to: string, tag: string, clashes: string[]): Promise<number> {
  const fromInfo = await lstat(from);
  let toInfo = null;
  try {
    toInfo = await lstat(to);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
  if (!toInfo) {
    await move(from, to);
    return 1;
  }
  if (fromInfo.isDirectory() && toInfo.isDirectory()) return mergeInto(from, to, tag, clashes);
  const renamed = await freeName(to, tag);
  await move(from, renamed);
  clashes.push(`${to} existed: kept both, the newcomer is ${basename(renamed)}`);
  return 1;
}

/**
 * Moves everything under `source` into `target` with `moveKeepingBoth`. Leaves `source`
 * holding only empty directories.
 */
export async function mergeInto(source: string, target: string, tag: string, clashes: string[]): Promise<number> {
  await mkdir(target, { recursive: true, mode: 0o700 });
  let moved = 0;
  for (const name of await readdir(source)) moved += await moveKeepingBoth(join(source, name), join(target, name), tag, clashes);
  return moved;
}

/** Removes a tree that holds only empty directories; anything else stays and is reported. */
export async function removeEmptyTree(dir: string): Promise<boolean> {
  let empty = true;
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    const info = await lstat(path);
    if (info.isDirectory() && (await removeEmptyTree(path))) continue;
    empty = false;
  }
  if (empty) await rmdir(dir);
  return empty;
}
