import { appendFileSync, mkdirSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../log.js';
import { parseTranscriptLine, type TranscriptSignal } from '../claude/transcript-record.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { FileTail } from './file-tail.js';
import { watchTranscripts, type TranscriptWatcher } from './transcript-watcher.js';

const user = (id: string, text: string) => JSON.stringify({ type: 'user', sessionId: id, cwd: '/p', timestamp: '2026-11-24T20:00:00Z', message: { role: 'user', content: text } }) + '\n';
const limit = (id: string) =>
  JSON.stringify({ type: 'assistant', sessionId: id, cwd: '/p', timestamp: '2026-11-24T20:00:00Z', isApiErrorMessage: true, error: 'rate_limit', message: { content: [{ type: 'text', text: 'x' }] }, quotaLimits: { resetsAt: 1800000000, rateLimitType: 'five_hour' } }) + '\n';

let root: string;
let watcher: TranscriptWatcher | null = null;
const seen: (TranscriptSignal & { file: string })[] = [];
beforeEach(async () => {
  root = await makeTempDir('cf-watch');
  seen.length = 0;
});
afterEach(async () => {
  vi.restoreAllMocks();
  watcher?.close();
  watcher = null;
  await removeTempDir(root);
});

async function start(rescanMs = 300, extra: Partial<Parameters<typeof watchTranscripts>[0]> = {}): Promise<TranscriptWatcher> {
  watcher = watchTranscripts({ projectsDir: root, parseLine: parseTranscriptLine, onSignal: (s) => seen.push(s), logger: silentLogger(), rescanMs, ...extra });
  await watcher.ready;
  return watcher;
}

describe('transcript watcher', () => {
  it('a shared dir it has to create (the daemon run before init) is private: 0700, like the one init makes', async () => {
    const projectsDir = join(root, 'not-yet-shared', 'projects');
    const old = process.umask(0o022);
    try {
      watcher = watchTranscripts({ projectsDir, parseLine: parseTranscriptLine, onSignal: (s) => seen.push(s), logger: silentLogger(), rescanMs: 300 });
      await watcher.ready;
    } finally {
      process.umask(old);
    }
    expect(statSync(projectsDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(root, 'not-yet-shared')).mode & 0o777).toBe(0o700);
  });

  it('does not replay history, then emits each appended line once, even when written in halves', async () => {
    mkdirSync(join(root, '-p'));
    const file = join(root, '-p', 's1.jsonl');
    writeFileSync(file, user('s1', 'old') + limit('s1'));
    await start();
    const line = limit('s1');
    appendFileSync(file, line.slice(0, 40));
    appendFileSync(file, line.slice(40));
    await waitFor(() => seen.length === 1, { what: 'one limit signal' });
    appendFileSync(file, user('s1', 'next'));
    await waitFor(() => seen.length === 2);
    expect(seen.map((s) => s.type)).toEqual(['limit', 'activity']);
    expect(seen[0]).toMatchObject({ sessionId: 's1', resetsAt: new Date(1800000000 * 1000), file });
  });

  it('reads new session dirs and files from their start, and skips malformed lines', async () => {
    await start();
    mkdirSync(join(root, '-q'));
    writeFileSync(join(root, '-q', 's2.jsonl'), 'garbage\n{"half":\n' + limit('s2'));
    await waitFor(() => seen.some((s) => s.sessionId === 's2'), { what: 'the new file' });
    expect(seen.filter((s) => s.sessionId === 's2')).toHaveLength(1);
  });

  it('starts over after truncation and after the file is replaced', async () => {
    mkdirSync(join(root, '-p'));
    const file = join(root, '-p', 's3.jsonl');
    writeFileSync(file, user('s3', 'a') + user('s3', 'b') + user('s3', 'c'));
    await start();
    writeFileSync(file, limit('s3'));
    await waitFor(() => seen.length === 1, { what: 'the truncated file' });
    writeFileSync(join(root, '-p', 'tmp'), user('s3', 'x') + limit('s3'));
    renameSync(join(root, '-p', 'tmp'), file);
    await waitFor(() => seen.length === 3, { what: 'the replaced file' });
    expect(seen.map((s) => s.type)).toEqual(['limit', 'activity', 'limit']);
  });

  it('with hundreds of idle files, emits only what changed', async () => {
    mkdirSync(join(root, '-many'));
    for (let i = 0; i < 300; i++) writeFileSync(join(root, '-many', `s${i}.jsonl`), user(`s${i}`, 'hello'));
    const w = await start();
    expect(w.files()).toBe(300);
    appendFileSync(join(root, '-many', 's123.jsonl'), limit('s123'));
    await waitFor(() => seen.length === 1);
    expect(seen[0]?.sessionId).toBe('s123');
  });

  it('does not read idle files on rescans', async () => {
    mkdirSync(join(root, '-many'));
    for (let i = 0; i < 200; i++) writeFileSync(join(root, '-many', `s${i}.jsonl`), user(`s${i}`, 'hello'));
    const reads = vi.spyOn(FileTail.prototype, 'readNewLines');
    const checks = vi.spyOn(FileTail.prototype, 'changedSince');
    await start(50);
    appendFileSync(join(root, '-many', 's7.jsonl'), limit('s7'));
    await waitFor(() => seen.length === 1);
    const readsAfterSignal = reads.mock.calls.length;
    const checksAfterSignal = checks.mock.calls.length;
    // Three more full rescans of every file...
    await waitFor(() => checks.mock.calls.length >= checksAfterSignal + 3 * 200, { what: 'three rescans' });
    // ...and nothing was read: s7 was read once (maybe twice: its watch event and a rescan racing), no other file at all.
    expect(readsAfterSignal).toBeLessThanOrEqual(2);
    expect(reads.mock.calls.length).toBe(readsAfterSignal);
    expect(new Set(reads.mock.contexts.map((tail) => (tail as FileTail).path))).toEqual(new Set([join(root, '-many', 's7.jsonl')]));
  });

  it('follows a file bigger than one read, line by line', async () => {
    await start(300, { tail: { chunkBytes: 64 } });
    mkdirSync(join(root, '-big'));
    const lines = Array.from({ length: 50 }, (_, i) => user('big', `line ${i} ∙ é`)).join('');
    writeFileSync(join(root, '-big', 'big.jsonl'), lines + limit('big'));
    await waitFor(() => seen.length === 51, { what: 'all 51 lines' });
    expect(seen.at(-1)?.type).toBe('limit');
  });

  it('forgets deleted files and follows a session dir that was removed and made again', async () => {
    mkdirSync(join(root, '-p'));
    writeFileSync(join(root, '-p', 'a.jsonl'), user('a', 'x'));
    writeFileSync(join(root, '-p', 'b.jsonl'), user('b', 'x'));
    const w = await start(50);
    expect(w.files()).toBe(2);
    unlinkSync(join(root, '-p', 'a.jsonl'));
    await waitFor(() => w.files() === 1, { what: 'the deleted file to be forgotten' });
    rmSync(join(root, '-p'), { recursive: true });
    await waitFor(() => w.files() === 0, { what: 'the deleted dir to be forgotten' });
    mkdirSync(join(root, '-p'));
    writeFileSync(join(root, '-p', 'c.jsonl'), limit('c'));
    await waitFor(() => seen.some((s) => s.sessionId === 'c'), { what: 'the file in the new dir' });
    appendFileSync(join(root, '-p', 'c.jsonl'), user('c', 'again'));
    await waitFor(() => seen.filter((s) => s.sessionId === 'c').length === 2, { what: 'the append in the new dir' });
  });

  it('keeps going when the signal handler throws', async () => {
    let calls = 0;
    await start(50, {
      onSignal: (s) => {
        calls++;
        seen.push(s);
        if (calls === 1) throw new Error('handler bug');
      },
    });
    mkdirSync(join(root, '-p'));
    writeFileSync(join(root, '-p', 'a.jsonl'), user('a', '1') + user('a', '2'));
    await waitFor(() => seen.length === 2, { what: 'both lines despite the throw' });
  });
});
