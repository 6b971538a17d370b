import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../log.js';
import { parseTranscriptLine, type TranscriptSignal } from '../claude/transcript-record.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { waitFor } from '../../test/helpers/wait-for.js';
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
  watcher?.close();
  await removeTempDir(root);
});

async function start(rescanMs = 300): Promise<TranscriptWatcher> {
  watcher = watchTranscripts({ projectsDir: root, parseLine: parseTranscriptLine, onSignal: (s) => seen.push(s), logger: silentLogger(), rescanMs });
  await watcher.ready;
  return watcher;
}

describe('transcript watcher', () => {
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
});
