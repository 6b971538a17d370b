import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { awaitLimitRecord, limitFromTranscriptTail } from './transcript-tail-limit.js';

const sessionId = '6c1f3b2a-5d4e-4f3a-9b8c-7d6e5f4a3b2c';
const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 21, 0, s)).toISOString();
const base = (s: number) => ({ sessionId, cwd: '/srv/web', isSidechain: false, uuid: `u${String(s)}`, timestamp: at(s) });
const user = (s: number, text: string) => ({ ...base(s), type: 'user', message: { role: 'user', content: text } });
const answer = (s: number) => ({ ...base(s), type: 'assistant', message: { role: 'assistant', model: 'claude-x', content: [{ type: 'text', text: 'Done.' }] } });
/** A limit record as Claude Code writes it, its reset an epoch in quotaLimits. */
const limit = (s: number, resetsAt: number) => ({
  ...base(s),
  type: 'assistant',
  message: { role: 'assistant', model: '<synthetic>', content: [{ type: 'text', text: "You've hit your 5-hour limit · resets 9:51pm (UTC)" }] },
  isApiErrorMessage: true,
  error: 'rate_limit',
  quotaLimits: { status: 'rejected', resetsAt, rateLimitType: 'five_hour' },
});
const lines = (...records: unknown[]) => records.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('the limit record a StopFailure hook follows', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('cf-tail-limit');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('is the limit the conversation ends on, never an older one answered since (the other account\'s, its reset past)', async () => {
    const path = join(dir, 'a.jsonl');
    const older = Date.UTC(2026, 11, 1, 21, 0, 40) / 1000;
    await writeFile(path, lines(user(1, 'TASK-1'), limit(2, older), user(3, 'Continue'), answer(4), user(5, 'TASK-2')));
    // The hook came first: the new limit record is not written yet.
    expect(await limitFromTranscriptTail(path)).toBeNull();
    const newer = Date.UTC(2026, 11, 1, 21, 1, 52) / 1000;
    await appendFile(path, lines(limit(6, newer)));
    expect((await limitFromTranscriptTail(path))?.resetsAt).toEqual(new Date(newer * 1000));
    expect(await limitFromTranscriptTail(join(dir, 'missing.jsonl'))).toBeNull();
    expect(await limitFromTranscriptTail(null)).toBeNull();
  });

  it('is waited for when the hook comes before it, and given up on (a guess) after a second', async () => {
    const path = join(dir, 'b.jsonl');
    await writeFile(path, lines(user(1, 'TASK-1'), answer(2), user(3, 'TASK-2')));
    const reset = Date.UTC(2026, 11, 1, 23, 0, 0) / 1000;
    const written = new Promise<void>((resolve) => setTimeout(() => { void appendFile(path, lines(limit(4, reset))).then(() => { resolve(); }); }, 200));
    expect((await awaitLimitRecord(path))?.resetsAt).toEqual(new Date(reset * 1000));
    await written;
    const never = join(dir, 'c.jsonl');
    await writeFile(never, lines(user(1, 'TASK-1')));
    const started = Date.now();
    expect(await awaitLimitRecord(never)).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });
});
