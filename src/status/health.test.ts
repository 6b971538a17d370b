import { mkdirSync, symlinkSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configFromObject } from '../config/load.js';
import type { Config } from '../config/types.js';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { createTmuxClient } from '../tmux/client.js';
import { PARTIAL_SWAP_FLAG } from '../switcher/types.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { killPrivateServer, privateSocketName } from '../../test/helpers/private-tmux.js';
import { checkHealth } from './health.js';

describe('checkHealth (real tmux on a private socket, real store)', () => {
  let dir: string;
  let socket: string;
  let store: Store;
  let config: Config;
  const now = new Date('2026-11-24T20:00:00Z');

  beforeEach(async () => {
    dir = await makeTempDir('cf-health');
    socket = privateSocketName('cf-health');
    const result = configFromObject(
      { home: dir, stateDir: `${dir}/state`, sharedDir: `${dir}/shared`, accounts: [{ name: 'A', home: `${dir}/.claude-A` }, { name: 'B', home: `${dir}/.claude-B` }], tmux: { socket }, pool: { autonomous: { prefix: 'auto-', startIndex: 1, min: 1, max: 2, project: dir } } },
      { baseDir: dir },
    );
    if (!result.ok) throw new Error(result.report);
    config = result.config;
    store = openStore(config.stateDir);
    store.setActiveAccount('A');
  });

  afterEach(async () => {
    store.close();
    await killPrivateServer(socket);
    await removeTempDir(dir);
  });

  const health = () => checkHealth({ config, store, tmux: createTmuxClient({ socket }), now });

  it('is healthy with a pool session running and an account available', async () => {
    await createTmuxClient({ socket }).newSession({ name: 'auto-1', cwd: dir, command: 'exec cat' });
    expect(await health()).toEqual({ healthy: true, reasons: [], activeAccount: 'A' });
  });

  it('notices a tmux server that is down, though tmux answers "no server" with an empty list', async () => {
    const h = await health();
    expect(h.healthy).toBe(false);
    expect(h.reasons).toEqual([`no pool session is running in tmux (-L ${socket}): the server is down or every session died`]);
  });

  it('names a partial swap and every account exhausted, all at once', async () => {
    await createTmuxClient({ socket }).newSession({ name: 'auto-1', cwd: dir, command: 'exec cat' });
    store.setFlag(PARTIAL_SWAP_FLAG, 'flip back to A failed: EROFS');
    for (const account of ['A', 'B']) store.markExhausted(account, { kind: 'five_hour', resetsAt: new Date('2026-11-24T22:00:00Z'), resetGuessed: false, source: 'hook:epoch', detectedAt: now });
    expect((await health()).reasons).toEqual(['partial swap: flip back to A failed: EROFS', 'every account is exhausted']);
  });

  it('names a real directory put where the link lives, and is healthy again once the link is back', async () => {
    await createTmuxClient({ socket }).newSession({ name: 'auto-1', cwd: dir, command: 'exec cat' });
    mkdirSync(config.link);
    expect((await health()).reasons).toEqual([`${config.link} is a real directory or file, not a link to an account home: no swap can go through; run claude-failover init to migrate it`]);
    await removeTempDir(config.link);
    mkdirSync(`${dir}/.claude-A`);
    symlinkSync(`${dir}/.claude-A`, config.link);
    expect((await health()).healthy).toBe(true);
  });
});
