import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNotifier } from '../notify/notifier.js';
import { silentLogger } from '../log.js';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { makeLayout, type TestLayout } from '../../test/helpers/account-layout.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { createFleet } from './fleet.js';

describe('a fleet host starting while the shared database is out of reach (real SQLite, a closed port)', () => {
  let dir: string;
  let layout: TestLayout;
  let store: Store;
  beforeEach(async () => {
    dir = await makeTempDir('cf-fleet-start');
    layout = await makeLayout(dir, { overrides: { store: { shared: { url: 'postgresql://cf:secret-pw@127.0.0.1:1/failover', connectTimeoutMs: 500 } }, fleet: { host: 'h1' } } });
    store = openStore(layout.config.stateDir);
  });
  afterEach(async () => {
    store.close();
    await removeTempDir(dir);
  });

  it('claims its name without refusing, starts degraded, and says why without the password', async () => {
    const logger = silentLogger();
    const fleet = await createFleet({
      config: layout.config, store, logger, now: () => new Date(),
      notifier: createNotifier({ notify: layout.config.notify, logger }),
      applyLimit: () => undefined,
      hostState: () => Promise.resolve({ activeAccount: 'A', sessions: 0, runningTasks: 0 }),
    });
    if (!fleet) throw new Error('store.shared is set: a fleet was expected');
    try {
      await fleet.claimName();
      await fleet.start();
      expect(fleet.sync.health.degraded).toBe(true);
      expect(fleet.report().degraded?.reason).toMatch(/127\.0\.0\.1:1\/failover/);
      expect(JSON.stringify(fleet.report())).not.toContain('secret-pw');
    } finally {
      await fleet.stop();
    }
  });
});
