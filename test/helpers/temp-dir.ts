import { mkdtemp, rm } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under the OS temp dir (realpath'd, as Claude Code encodes realpaths). */
export async function makeTempDir(label = 'cf'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `${label}-`));
  return realpathSync(dir);
}

export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
