import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { createEmbeddedSharedStore } from '../store/embedded-shared-store.js';
import { makeLayout, type TestLayout } from '../../test/helpers/account-layout.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { readFleetReport } from './fleet.js';
import { SILENT_AFTER_MS } from '../store/shared-store.js';

describe('the fleet report (real SQLite)', () => {
  let dir: string;
  let layout: TestLayout;
  let store: Store;

  beforeEach(async () => {
    dir = await makeTempDir('cf-fleet-report');
    layout = await makeLayout(dir);
    store = openStore(layout.config.stateDir);
  });
  afterEach(async () => {
    store.close();
    await removeTempDir(dir);
  });

  it('calls a host silent once it has not reported for 30 s (stopped, or cut off from the database), and never shows a host a degraded flag it could not have written', async () => {
    const seenAt = new Date('2026-12-01T12:00:00Z');
    const shared = createEmbeddedSharedStore(store, () => seenAt);
    await shared.heartbeat({ name: 'h1', activeAccount: 'A', sessions: 2, runningTasks: 1, degraded: false });
    const at = (ms: number) => readFleetReport(shared, layout.config, new Date(seenAt.getTime() + ms));
    expect((await at(1000)).hosts).toEqual([{ name: 'h1', lastSeen: seenAt.toISOString(), activeAccount: 'A', sessions: 2, runningTasks: 1, silent: false }]);
    expect((await at(SILENT_AFTER_MS + 1)).hosts[0]).toMatchObject({ name: 'h1', silent: true });
  });
});
