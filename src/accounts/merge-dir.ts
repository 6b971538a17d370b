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
 * Moves everything under `source` into `target`, never deleting or overwriting a file: a
 * clashing name is kept beside the other with a suffix, and reported. Leaves `source`
 * holding only empty directories.
 */
export async function mergeInto(source: string, target: string, tag: string, clashes: string[]): Promise<number> {
  await mkdir(target, { recursive: true, mode: 0o700 });
  let moved = 0;
  for (const name of await readdir(source)) {
    const from = join(source, name);
    const to = join(target, name);
    const fromInfo = await lstat(from);
    let toInfo = null;
    try {
      toInfo = await lstat(to);
    } catch {
      // free
    }
    if (!toInfo) {
      await move(from, to);
      moved++;
    } else if (fromInfo.isDirectory() && toInfo.isDirectory()) {
      moved += await mergeInto(from, to, tag, clashes);
    } else {
      const renamed = await freeName(to, tag);
      await move(from, renamed);
      clashes.push(`${to} existed: kept both, the newcomer is ${basename(renamed)}`);
      moved++;
    }
  }
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
