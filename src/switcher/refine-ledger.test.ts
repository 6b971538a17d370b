import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { transcriptFor } from '../pool/transcript-exists.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { refineGuessedReset } from './refine-ledger.js';

const NOW = new Date('2026-12-01T12:00:00Z');
const OPENED = new Date('2026-12-01T11:59:59Z');
const EXACT = new Date('2026-12-01T16:00:00Z');

describe("refineGuessedReset: a crash between the hook's guess and the transcript's exact reset", () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = await makeTempDir('cf-refine');
    store = openStore(join(dir, 'state'));
  });
  afterEach(async () => {
    store.close();
    await removeTempDir(dir);
  });

  const account = () => ({ name: 'A', home: join(dir, '.claude-A') }) as never;
  const session = (sessionId: string, limitAt: Date) => {
    const cwd = join(dir, 'project');
    mkdirSync(cwd, { recursive: true });
    const path = transcriptFor(join(dir, '.claude-A'), cwd, sessionId) ?? '';
    mkdirSync(dirname(path), { recursive: true });
    const limit = { type: 'assistant', sessionId, cwd, timestamp: limitAt.toISOString(), isApiErrorMessage: true, error: 'rate_limit', message: { role: 'assistant', model: '<synthetic>', content: [{ type: 'text', text: "You've hit your 5-hour limit · resets 4pm (UTC)" }] }, quotaLimits: { status: 'rejected', resetsAt: EXACT.getTime() / 1000, rateLimitType: 'five_hour' } };
    writeFileSync(path, JSON.stringify({ type: 'user', sessionId, cwd, timestamp: new Date(limitAt.getTime() - 1000).toISOString(), message: { role: 'user', content: 'Refactor' } }) + '\n' + JSON.stringify(limit) + '\n');
    return { name: 'web', paneId: '%1', sessionId, cwd, account: 'A', working: true };
  };
  const guess = () => { store.markExhausted('A', { kind: 'unknown', resetsAt: new Date(NOW.getTime() + 5 * 3600_000), resetGuessed: true, source: 'hook', detectedAt: NOW }); };

  it("replaces the guess with the exact reset of the limit the pool's conversation met before the swap", async () => {
    guess();
    expect(await refineGuessedReset(store, account(), [session('6c1f3b2a-5d4e-4f3a-9b8c-7d6e5f4a3b2c', new Date(OPENED.getTime() - 500))], OPENED, NOW)).toEqual(EXACT);
    expect(store.getLedgerEntry('A')).toMatchObject({ exhausted: true, resetsAt: EXACT, resetGuessed: false, kind: 'five_hour' });
  });

  it('leaves an exact reset alone, and ignores a limit written after the swap opened (not this account\'s)', async () => {
    store.markExhausted('A', { kind: 'five_hour', resetsAt: new Date(NOW.getTime() + 3600_000), resetGuessed: false, source: 'transcript', detectedAt: NOW });
    expect(await refineGuessedReset(store, account(), [session('7c1f3b2a-5d4e-4f3a-9b8c-7d6e5f4a3b2c', OPENED)], OPENED, NOW)).toBeNull();
    guess();
    expect(await refineGuessedReset(store, account(), [session('8c1f3b2a-5d4e-4f3a-9b8c-7d6e5f4a3b2c', new Date(OPENED.getTime() + 500))], OPENED, NOW)).toBeNull();
    expect(store.getLedgerEntry('A')?.resetGuessed).toBe(true);
  });
});
