import { randomBytes } from 'node:crypto';
import { open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

const PROBE_PREFIX = '.claude-failover-probe-';
// A block of bytes, not an empty file: an empty file needs no space, so a full disk would pass.
const PROBE_BYTES = Buffer.alloc(4096, 0x20);

/**
 * Proves `dir` writable with a real write (access(W_OK) misses an immutable dir, a read-only
 * mount, a full disk), and throws what the write threw. A probe left behind by a process killed
 * mid-probe is removed first: the shared projects dir is where Claude Code and the operator's
 * tools list conversations, and a stray file there must not outlive the next probe.
 */
export async function proveDirWritable(dir: string): Promise<void> {
  await removeLeftoverProbes(dir);
  const probe = join(dir, `${PROBE_PREFIX}${String(process.pid)}-${randomBytes(4).toString('hex')}`);
  try {
    const file = await open(probe, 'wx', 0o600);
    try {
      await file.write(PROBE_BYTES);
      await file.datasync();
    } finally {
      await file.close();
    }
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
}

/** Our own probe files in `dir`, left by a process that died between writing and removing one. */
export async function leftoverProbes(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((name) => name.startsWith(PROBE_PREFIX)).map((name) => join(dir, name));
}

async function removeLeftoverProbes(dir: string): Promise<void> {
  for (const path of await leftoverProbes(dir)) await rm(path, { force: true }).catch(() => undefined);
}
