import { lstat, readlink, rename, stat, symlink, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { Account, Config } from '../config/types.js';
import { FailoverError, errnoCode } from '../errors.js';

export type LinkState =
  | { readonly kind: 'account'; readonly account: Account; readonly target: string }
  | { readonly kind: 'missing' }
  | { readonly kind: 'not-a-link' }
  | { readonly kind: 'outside'; readonly target: string };

/** What `~/.claude` is now: a link to a configured account home, or something else. */
export async function readLink(config: Config): Promise<LinkState> {
  let target: string;
  try {
    const info = await lstat(config.link);
    if (!info.isSymbolicLink()) return { kind: 'not-a-link' };
    target = resolve(dirname(config.link), await readlink(config.link));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { kind: 'missing' };
    throw err;
  }
  const account = config.accounts.find((a) => resolve(a.home) === target);
  return account ? { kind: 'account', account, target } : { kind: 'outside', target };
}

/**
 * Points the link at `targetHome` atomically: a symlink under a temporary name in the same
 * directory, then rename over the link, so `~/.claude` exists at every instant.
 */
export async function flipLink(config: Config, targetHome: string): Promise<void> {
  try {
    const current = await lstat(config.link);
    if (!current.isSymbolicLink()) {
      throw new FailoverError('LINK_IS_DIRECTORY', `${config.link} is a real ${current.isDirectory() ? 'directory' : 'file'}, not a link; run \`claude-failover init\` to migrate it first`);
    }
  } catch (err) {
    if (err instanceof FailoverError) throw err;
    if (errnoCode(err) !== 'ENOENT') throw new FailoverError('LINK_FLIP_FAILED', `cannot read ${config.link}: ${errnoCode(err) ?? String(err)}`, { cause: err });
  }
  try {
    if (!(await stat(targetHome)).isDirectory()) throw new Error('not a directory');
  } catch (err) {
    throw new FailoverError('LINK_TARGET_MISSING', `cannot point ${config.link} at ${targetHome}: it is not a directory`, { cause: err });
  }
  const temp = join(dirname(config.link), `.${basename(config.link)}.cf-flip-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await symlink(targetHome, temp);
    await rename(temp, config.link);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw new FailoverError('LINK_FLIP_FAILED', `cannot point ${config.link} at ${targetHome}: ${errnoCode(err) ?? String(err)}`, { cause: err });
  }
  const after = await readlink(config.link).then(
    (raw) => resolve(dirname(config.link), raw),
    (err: unknown) => {
      throw new FailoverError('LINK_VERIFY_FAILED', `cannot read ${config.link} after the flip: ${errnoCode(err) ?? String(err)}`, { cause: err });
    },
  );
  if (after !== resolve(targetHome)) throw new FailoverError('LINK_VERIFY_FAILED', `${config.link} points at ${after} after the flip, not ${targetHome}`);
}
