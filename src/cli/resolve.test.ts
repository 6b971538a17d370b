import { rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { makeLayout, type TestLayout } from '../../test/helpers/account-layout.js';
import { runCli } from '../../test/helpers/cli.js';
import { openStore } from '../store/sqlite-store.js';
import { PARTIAL_SWAP_FLAG } from '../switcher/types.js';
import { JOURNAL_RESOLVED_BY_OPERATOR } from './resolve.js';

// `resolve` as an operator runs it: the built CLI against a real state dir and a real layout.
let dir: string;
let layout: TestLayout;
beforeEach(async () => {
  dir = await makeTempDir('cf-resolve');
  layout = await makeLayout(dir);
  const init = await runCli(['--config', layout.configFile, 'init'], { env: { HOME: layout.home } });
  expect(init.code, init.stderr).toBe(0);
});
afterEach(async () => {
  await removeTempDir(dir);
});

/** A swap to B that faulted part-way and could not be repaired: flag set, journal entry left open. */
function leaveOpenSwap(): number {
  const store = openStore(layout.config.stateDir);
  try {
    const id = store.openJournal({ from: 'A', to: 'B', trigger: 'limit', snapshot: { sessions: [], trigger: 'limit' } });
    for (const step of ['saved', 'flipping', 'ensuring']) store.journalStep(id, step);
    store.setFlag(PARTIAL_SWAP_FLAG, `a swap failed part-way and could not be repaired; the journal entry ${id} is still open`);
    return id;
  } finally {
    store.close();
  }
}

function journalRow(id: number): { outcome: string | null; closed: boolean; steps: string[] } {
  const db = new Database(join(layout.config.stateDir, 'state.db'), { readonly: true });
  try {
    const row = db.prepare('SELECT outcome, closed_at FROM journal WHERE id = ?').get(id) as { outcome: string | null; closed_at: number | null };
    const steps = (db.prepare('SELECT step FROM journal_steps WHERE journal_id = ? ORDER BY rowid').all(id) as { step: string }[]).map((s) => s.step);
    return { outcome: row.outcome, closed: row.closed_at !== null, steps };
  } finally {
    db.close();
  }
}

describe('claude-failover resolve', () => {
  it('closes the open journal entry as resolved by the operator, so the next start has no swap to redo', async () => {
    const id = leaveOpenSwap();
    const result = await runCli(['--config', layout.configFile, 'resolve'], { env: { HOME: layout.home } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('partial-swap flag cleared');

    const store = openStore(layout.config.stateDir);
    try {
      expect(store.getFlag(PARTIAL_SWAP_FLAG).set).toBe(false);
      // What recovery reads at the next start: nothing left to finish or roll back.
      expect(store.unfinishedJournal()).toBeNull();
      expect(store.getActiveAccount()).toBe('A'); // the link, as init left it
    } finally {
      store.close();
    }
    expect(result.stdout).toContain(`journal entry ${id} (A → B, stopped after "ensuring") closed as resolved by the operator`);
    expect(journalRow(id)).toEqual({ outcome: JOURNAL_RESOLVED_BY_OPERATOR, closed: true, steps: ['saved', 'flipping', 'ensuring', JOURNAL_RESOLVED_BY_OPERATOR] });
  });

  it('--json says what it did: resolved, the checks, the flag it cleared, the active account, the journal entry it closed', async () => {
    const id = leaveOpenSwap();
    const result = await runCli(['--config', layout.configFile, 'resolve', '--json'], { env: { HOME: layout.home } });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const answer = JSON.parse(result.stdout) as { resolved: boolean; checks: { status: string; message: string; fix: string | null }[]; partialSwap: unknown; activeAccount: string | null; journal: string | null };
    expect(answer).toMatchObject({
      resolved: true,
      partialSwap: { wasSet: true, reason: expect.stringContaining(`journal entry ${String(id)} is still open`) as string, cleared: true },
      activeAccount: 'A',
      journal: expect.stringContaining(`journal entry ${String(id)} (A → B, stopped after "ensuring") closed as resolved by the operator`) as string,
    });
    expect(answer.checks.length).toBeGreaterThan(0);
    expect(answer.checks.every((c) => c.status !== 'fail')).toBe(true);
    expect(journalRow(id)).toMatchObject({ outcome: JOURNAL_RESOLVED_BY_OPERATOR, closed: true });
  });

  it('--json with a check failing: resolved false, the failing check with its fix, the flag kept; exit 1', async () => {
    leaveOpenSwap();
    const link = join(layout.config.accounts[0]?.home ?? '', 'projects');
    rmSync(link);
    symlinkSync(join(dir, 'nowhere'), link);
    const result = await runCli(['--config', layout.configFile, 'resolve', '--json'], { env: { HOME: layout.home } });
    expect(result.code).toBe(1);
    const answer = JSON.parse(result.stdout) as { resolved: boolean; checks: { status: string; fix: string | null }[]; partialSwap: { wasSet: boolean; cleared: boolean }; journal: string | null };
    expect(answer).toMatchObject({ resolved: false, partialSwap: { wasSet: true, cleared: false }, journal: null });
    expect(answer.checks.some((c) => c.status === 'fail' && c.fix !== null)).toBe(true);
  });

  it('leaves the flag and the journal entry alone while a check fails', async () => {
    const id = leaveOpenSwap();
    // Break the layout: A's shared link `projects` points nowhere now.
    const link = join(layout.config.accounts[0]?.home ?? '', 'projects');
    rmSync(link);
    symlinkSync(join(dir, 'nowhere'), link);
    const result = await runCli(['--config', layout.configFile, 'resolve'], { env: { HOME: layout.home } });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('the partial-swap flag stays set');
    expect(journalRow(id)).toMatchObject({ outcome: null, closed: false });
    const store = openStore(layout.config.stateDir);
    try {
      expect(store.getFlag(PARTIAL_SWAP_FLAG).set).toBe(true);
      expect(store.unfinishedJournal()?.id).toBe(id);
    } finally {
      store.close();
    }
  });
});
