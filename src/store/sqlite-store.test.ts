import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { openStore, storeFile } from './sqlite-store.js';
import { acquireInstanceLock } from './instance-lock.js';
import { MIGRATIONS } from './migrations.js';
import { STATE_DIR_MARKER } from './state-dir.js';

let dir: string;
beforeEach(async () => {
  dir = await makeTempDir('cf-store');
});
afterEach(async () => {
  await removeTempDir(dir);
});

describe('SQLite store', () => {
  it('creates its file 0600 in a 0700 dir and keeps data across reopening', () => {
    const stateDir = join(dir, 'state');
    const store = openStore(stateDir);
    store.setActiveAccount('work');
    store.markExhausted('work', { kind: 'five_hour', resetsAt: new Date('2026-11-24T15:00:00Z'), resetGuessed: false, source: 'transcript:epoch', detectedAt: new Date() });
    store.close();
    expect(statSync(join(stateDir, 'state.db')).mode & 0o777).toBe(0o600);
    expect(statSync(stateDir).mode & 0o777).toBe(0o700);
    const again = openStore(stateDir);
    expect(again.getActiveAccount()).toBe('work');
    expect(again.getLedgerEntry('work')).toMatchObject({ exhausted: true, kind: 'five_hour', resetsAt: new Date('2026-11-24T15:00:00Z'), source: 'transcript:epoch' });
    again.clearExhausted('work');
    expect(again.getLedgerEntry('work')).toMatchObject({ exhausted: false, resetsAt: null });
    again.recordUsage('spare', { percent: 42, kind: 'five_hour', resetsAt: null });
    expect(again.getLedger().map((e) => [e.account, e.usagePercent])).toEqual([['spare', 42], ['work', null]]);
    again.close();
  });

  it('runs in WAL mode with the database and its -wal and -shm files 0600', () => {
    const stateDir = join(dir, 'state');
    const store = openStore(stateDir);
    store.setActiveAccount('work'); // a write, so the -wal and -shm files exist
    const file = join(stateDir, 'state.db');
    const other = new Database(file, { readonly: true });
    expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
    other.close();
    for (const f of [file, `${file}-wal`, `${file}-shm`]) {
      expect(existsSync(f)).toBe(true);
      expect(statSync(f).mode & 0o777).toBe(0o600);
    }
    store.close();
  });

  it('tightens a state dir it created back to 0700, and leaves a dir the user made as it is', () => {
    const ours = join(dir, 'ours');
    openStore(ours).close();
    expect(existsSync(join(ours, STATE_DIR_MARKER))).toBe(true);
    chmodSync(ours, 0o755);
    openStore(ours).close();
    expect(statSync(ours).mode & 0o777).toBe(0o700);
    chmodSync(ours, 0o750);
    acquireInstanceLock(ours).release();
    expect(statSync(ours).mode & 0o777).toBe(0o700);

    const theirs = join(dir, 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    chmodSync(theirs, 0o755);
    openStore(theirs).close();
    expect(statSync(theirs).mode & 0o777).toBe(0o755);
    expect(existsSync(join(theirs, STATE_DIR_MARKER))).toBe(false);
    expect(statSync(join(theirs, 'state.db')).mode & 0o777).toBe(0o600);
  });

  it('migrates an old database and refuses one from a newer version', () => {
    const file = join(dir, 'state.db');
    const old = new Database(file);
    old.pragma('user_version = 0');
    old.close();
    openStore(dir).close();
    const check = new Database(file);
    expect(check.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    check.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    check.close();
    expect(() => openStore(dir)).toThrow(/newer than this claude-failover knows/);
  });

  it('keeps swaps, the journal with its steps, flags, jobs and the session registry', () => {
    const store = openStore(dir);
    store.addSwap({ from: 'a', to: 'b', at: new Date(1000), result: 'done', reason: null, trigger: 'limit' });
    store.addSwap({ from: 'b', to: null, at: new Date(2000), result: 'no-target', reason: 'all out', trigger: 'limit' });
    expect(store.listSwaps(10).map((s) => s.result)).toEqual(['no-target', 'done']);

    const id = store.openJournal({ from: 'a', to: 'b', trigger: 'manual', snapshot: { sessions: [{ name: 's' }] } });
    store.journalStep(id, 'saved');
    store.journalStep(id, 'flipping', { target: 'b' });
    const open = store.unfinishedJournal();
    expect(open).toMatchObject({ id, from: 'a', to: 'b', snapshot: { sessions: [{ name: 's' }] } });
    expect(open?.steps.map((s) => s.step)).toEqual(['saved', 'flipping']);
    store.closeJournal(id, 'done');
    expect(store.unfinishedJournal()).toBeNull();

    expect(store.getFlag('partial-swap').set).toBe(false);
    store.setFlag('partial-swap', 'flip back failed');
    expect(store.getFlag('partial-swap')).toMatchObject({ set: true, reason: 'flip back failed' });
    store.clearFlag('partial-swap');
    expect(store.getFlag('partial-swap').set).toBe(false);

    store.scheduleJob({ key: 'return', kind: 'return', runAt: new Date(5000) });
    store.scheduleJob({ key: 'return', kind: 'return', runAt: new Date(3000) });
    store.scheduleJob({ key: 'retry', kind: 'retry', runAt: new Date(9000) });
    expect(store.listJobs().map((j) => [j.key, j.runAt.getTime()])).toEqual([['return', 3000], ['retry', 9000]]);
    expect(store.dueJobs(new Date(4000)).map((j) => j.key)).toEqual(['return']);
    store.deleteJob('return');
    expect(store.listJobs().map((j) => j.key)).toEqual(['retry']);

    store.upsertSession({ name: 'auto-1', paneId: '%3', state: 'starting', account: 'a', launchedAt: new Date(100) });
    store.upsertSession({ name: 'auto-1', sessionId: 'abc', state: 'idle' });
    expect(store.getSession('auto-1')).toMatchObject({ paneId: '%3', sessionId: 'abc', state: 'idle', account: 'a', launchedAt: new Date(100) });
    expect(store.findSessionByPane('%3')?.name).toBe('auto-1');
    expect(store.findSessionBySessionId('abc')?.name).toBe('auto-1');
    store.upsertSession({ name: 'auto-1', lastError: null });
    expect(store.listSessions().map((x) => [x.name, x.lastError])).toEqual([['auto-1', null]]);
    store.close();
  });

  it('migrates a database of the first schema, keeping its rows and dropping the columns nothing read', () => {
    const file = storeFile(dir);
    const old = new Database(file);
    old.exec(MIGRATIONS[0] ?? '');
    old.pragma('user_version = 1');
    old.prepare('INSERT INTO sessions (name, session_id, pid, transcript_path, updated_at) VALUES (?, ?, ?, ?, ?)').run('web', 'abc', 42, '/t.jsonl', 1);
    old.prepare('INSERT INTO jobs (key, kind, run_at, payload) VALUES (?, ?, ?, ?)').run('return', 'return', 5000, '{}');
    old.close();
    const store = openStore(dir);
    expect(store.getSession('web')).toMatchObject({ name: 'web', sessionId: 'abc' });
    expect(store.listJobs()).toEqual([{ key: 'return', kind: 'return', runAt: new Date(5000) }]);
    store.close();
    const after = new Database(file, { readonly: true });
    const columns = (table: string) => (after.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
    expect(columns('sessions')).not.toContain('pid');
    expect(columns('sessions')).not.toContain('transcript_path');
    expect(columns('jobs')).not.toContain('payload');
    expect(after.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    after.close();
  });

  it('gives each queued task to one session only: by priority, then age; a target only to its session', async () => {
    const store = openStore(dir);
    const q = store.tasks;
    const low = await q.add({ prompt: 'one' });
    await q.add({ prompt: 'two', target: 'web' });
    const high = await q.add({ prompt: 'three', priority: 5 });
    expect((await q.claim('auto-1', { autonomous: true }))?.id).toBe(high.id);
    expect((await q.claim('auto-2', { autonomous: true }))?.id).toBe(low.id);
    expect(await q.claim('auto-3', { autonomous: true })).toBeNull();
    expect((await q.claim('web', { autonomous: false }))?.prompt).toBe('two');
    // Claimed is not running: it runs once Claude Code has confirmed its prompt.
    expect((await q.get(high.id))?.state).toBe('queued');
    expect(await q.started(high.id, 'conv-1')).toMatchObject({ state: 'running', sessionId: 'conv-1', attempts: 1, session: 'auto-1' });
    expect((await q.onSession('auto-1'))?.id).toBe(high.id);
    await q.finished(high.id, 'all done');
    expect(await q.get(high.id)).toMatchObject({ state: 'done', result: 'all done' });
    expect(await q.onSession('auto-1')).toBeNull();
    // A release puts a claim back; a failed attempt is queued again while attempts remain.
    await q.release(low.id);
    expect((await q.claim('auto-9', { autonomous: true }))?.id).toBe(low.id);
    await q.started(low.id, 'conv-2');
    expect(await q.failed(low.id, 'the session died', { retry: true })).toMatchObject({ state: 'queued', error: 'the session died', attempts: 1 });
    await q.claim('auto-9', { autonomous: true });
    await q.started(low.id, 'conv-3');
    expect(await q.failed(low.id, 'died again', { retry: true })).toMatchObject({ state: 'failed', attempts: 2 });
    expect(await q.retry(low.id)).toMatchObject({ state: 'queued', attempts: 0, error: null });
    expect(await q.cancel(low.id)).toMatchObject({ state: 'cancelled' });
    expect(await q.counts()).toEqual({ queued: 1, running: 0, done: 1, failed: 0, cancelled: 1 });
    expect(store.writable()).toBe(true);
    store.close();
  });

  it('prepares each query once and reuses it (the daemon runs the same few queries every tick)', () => {
    const store = openStore(dir);
    store.upsertSession({ name: 'web', state: 'idle' });
    const prepare = vi.spyOn(Database.prototype, 'prepare');
    try {
      expect(store.getSession('web')?.state).toBe('idle');
      expect(prepare).toHaveBeenCalledTimes(1);
      store.upsertSession({ name: 'web', state: 'working' });
      const afterFirstUpdate = prepare.mock.calls.length;
      for (let i = 0; i < 5; i++) {
        store.upsertSession({ name: 'web', state: i % 2 ? 'idle' : 'working' });
        expect(store.getSession('web')?.state).toBe(i % 2 ? 'idle' : 'working');
      }
      expect(prepare).toHaveBeenCalledTimes(afterFirstUpdate);
      // Different SQL is still prepared: an update of other columns gets its own statement.
      store.upsertSession({ name: 'web', account: 'A' });
      expect(prepare).toHaveBeenCalledTimes(afterFirstUpdate + 1);
      expect(store.getSession('web')).toMatchObject({ state: 'working', account: 'A' });
    } finally {
      prepare.mockRestore();
      store.close();
    }
  });
});

describe('instance lock', () => {
  it('lets one daemon hold a state dir and takes over a stale lock', () => {
    const held = acquireInstanceLock(dir);
    expect(statSync(join(dir, 'daemon.lock')).mode & 0o777).toBe(0o600);
    expect(() => acquireInstanceLock(dir)).toThrow(/another claude-failover daemon \(pid \d+\)/);
    held.release();
    writeFileSync(join(dir, 'daemon.lock'), '999999999\n');
    const taken = acquireInstanceLock(dir);
    taken.release();
  });

  it('lets exactly one of several racing processes win', async () => {
    const script = `import('${join(process.cwd(), 'src/store/instance-lock.ts')}').then(m => { try { m.acquireInstanceLock(${JSON.stringify(dir)}); console.log('won'); setTimeout(() => {}, 1500); } catch (e) { console.log('lost', e.code); } })`;
    const runs = await Promise.all(
      Array.from({ length: 4 }, () =>
        new Promise<string>((resolve) => {
          const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
          let out = '';
          child.stdout.on('data', (d: Buffer) => (out += d.toString()));
          child.on('close', () => { resolve(out.trim()); });
        }),
      ),
    );
    expect(runs.filter((r) => r === 'won')).toHaveLength(1);
    expect(runs.filter((r) => r === 'lost INSTANCE_LOCKED')).toHaveLength(3);
  });
});
