import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { leftoverProbes, proveDirWritable } from './write-probe.js';

describe('proveDirWritable', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = mkdtempSync(join(tmpdir(), 'cf-probe-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('writes and removes its probe, leaving the directory as it was', async () => {
    const d = dir();
    writeFileSync(join(d, 'keep.jsonl'), 'x');
    await proveDirWritable(d);
    expect(readdirSync(d)).toEqual(['keep.jsonl']);
  });

  it('removes probes a killed process left behind, and nothing else', async () => {
    const d = dir();
    writeFileSync(join(d, '.claude-failover-probe-123-deadbeef'), ' '.repeat(4096));
    writeFileSync(join(d, '.claude-failover-probe-9d7e91f0'), '');
    writeFileSync(join(d, 'claude-failover-probe-not-ours'), '');
    expect(await leftoverProbes(d)).toHaveLength(2);
    await proveDirWritable(d);
    expect(readdirSync(d)).toEqual(['claude-failover-probe-not-ours']);
  });

  it('throws what the write threw where it cannot write', async () => {
    const d = dir();
    writeFileSync(join(d, 'a-file'), '');
    await expect(proveDirWritable(join(d, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(proveDirWritable(join(d, 'a-file'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(readdirSync(d)).toEqual(['a-file']);
  });
});
