import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { continuedSince, conversationEnd, lastConversationRecord, promptInTranscript, recordsNewestFirst } from './conversation-tail.js';

const sessionId = '6c1f3b2a-5d4e-4f3a-9b8c-7d6e5f4a3b2c';
const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 12, 0, s)).toISOString();
const base = (s: number) => ({ sessionId, cwd: '/srv/web', isSidechain: false, uuid: `u${String(s)}`, timestamp: at(s) });
const user = (s: number, content: unknown) => ({ ...base(s), type: 'user', message: { role: 'user', content } });
const assistant = (s: number, content: unknown[]) => ({ ...base(s), type: 'assistant', message: { role: 'assistant', model: 'claude-x', content } });
const limit = (s: number) => ({
  ...base(s),
  type: 'assistant',
  message: { role: 'assistant', model: '<synthetic>', content: [{ type: 'text', text: "You've hit your 5-hour limit · resets 9:51pm (UTC)" }] },
  isApiErrorMessage: true,
  error: 'rate_limit',
  quotaLimits: { status: 'rejected', resetsAt: 1795555860, rateLimitType: 'five_hour' },
});
const system = (s: number, content: string) => ({ ...base(s), type: 'system', content });

describe('conversationEnd: how a stopped conversation ends', () => {
  let dir: string;
  let n = 0;
  beforeAll(async () => {
    dir = await makeTempDir('tail');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });
  const transcript = async (...records: unknown[]) => {
    const path = join(dir, `t${String(n++)}.jsonl`);
    await writeFile(path, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return path;
  };

  it('an answered turn needs nothing', async () => {
    expect(await conversationEnd(await transcript(user(1, 'Fix the bug'), assistant(2, [{ type: 'text', text: 'Done.' }])))).toBe('answered');
  });

  it('a prompt with nothing after it is awaiting its answer', async () => {
    expect(await conversationEnd(await transcript(user(1, 'One'), assistant(2, [{ type: 'text', text: 'ok' }]), user(3, 'Two')))).toBe('awaiting-answer');
  });

  it('a tool call, or a tool result, with nothing after it is mid-turn', async () => {
    expect(await conversationEnd(await transcript(user(1, 'Run it'), assistant(2, [{ type: 'tool_use', id: 't1', name: 'Bash', input: {} }])))).toBe('awaiting-answer');
    expect(await conversationEnd(await transcript(user(1, 'Run it'), assistant(2, [{ type: 'tool_use', id: 't1', name: 'Bash', input: {} }]), user(3, [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }])))).toBe(
      'awaiting-answer',
    );
  });

  it('a limit record followed only by system lines is limited; one answered after is not', async () => {
    const limited = await transcript(user(1, 'Go'), limit(2), system(3, 'Usage limit reached · set to continue automatically at 9:51pm'));
    expect(await conversationEnd(limited)).toBe('limited');
    expect((await lastConversationRecord(limited)).record).toMatchObject({ error: 'rate_limit' });
    expect(await conversationEnd(await transcript(user(1, 'Go'), limit(2), user(3, 'Continue'), assistant(4, [{ type: 'text', text: 'Continued.' }])))).toBe('answered');
  });

  it('tells an interrupted turn apart, and skips meta records and local commands', async () => {
    expect(await conversationEnd(await transcript(user(1, 'Go'), user(2, [{ type: 'text', text: '[Request interrupted by user]' }])))).toBe('interrupted');
    const path = await transcript(user(1, 'Go'), assistant(2, [{ type: 'text', text: 'Done.' }]), { ...user(3, 'Caveat: local'), isMeta: true }, user(4, '<command-name>/status</command-name>'), user(5, '<local-command-stdout>ok</local-command-stdout>'));
    expect(await conversationEnd(path)).toBe('answered');
  });

  it('an error that is not a limit ends the turn; junk, a cut first line and a missing file do not throw', async () => {
    expect(await conversationEnd(await transcript(user(1, 'Go'), { ...assistant(2, [{ type: 'text', text: 'API Error: 500' }]), isApiErrorMessage: true, error: 'server_error' }))).toBe('answered');
    const path = await transcript(user(1, 'Go'));
    await appendFile(path, 'not json\n{"half": \n');
    expect(await conversationEnd(path)).toBe('awaiting-answer');
    expect(await conversationEnd(join(dir, 'missing.jsonl'))).toBe('empty');
    expect(await conversationEnd(await transcript(system(1, 'hello')))).toBe('empty');
  });

  it('reads back as far as the question needs, not a fixed window: a limit under 600 KB of sidechain records, a record longer than a block, split characters', async () => {
    const sidechain = (s: number) => ({ ...assistant(s, [{ type: 'text', text: 'x'.repeat(4000) }]), isSidechain: true });
    const limited = await transcript(user(1, 'Go'), limit(2), ...Array.from({ length: 150 }, (_, i) => sidechain(3 + i)));
    expect(await conversationEnd(limited)).toBe('limited');
    // One record of 300 KB of multi-byte characters (blocks are 64 KB: it spans five, and characters are cut between them).
    const long = await transcript(user(1, 'Go'), assistant(2, [{ type: 'text', text: `${'é€😀'.repeat(40_000)} done` }]));
    expect(await conversationEnd(long)).toBe('answered');
    expect(JSON.stringify((await lastConversationRecord(long)).record)).toContain(`${'é€😀'.repeat(3)} done`);
    // The first line of the file, with no newline before it and none after it.
    const only = join(dir, 'only.jsonl');
    await writeFile(only, JSON.stringify(user(1, 'Alone')));
    expect(await conversationEnd(only)).toBe('awaiting-answer');
  });

  it('reads no further back than maxBytes', async () => {
    const path = await transcript(user(1, 'Go'), limit(2), ...Array.from({ length: 30 }, (_, i) => system(3 + i, 'y'.repeat(4000))));
    const seen = async (maxBytes?: number) => {
      const out: unknown[] = [];
      for await (const record of recordsNewestFirst(path, maxBytes === undefined ? {} : { maxBytes })) out.push(record);
      return out;
    };
    expect(await seen()).toHaveLength(32);
    const bounded = await seen(64 * 1024);
    expect(bounded.length).toBeGreaterThan(10);
    expect(bounded.length).toBeLessThan(20);
    expect(bounded.every((r) => (r as { type?: string }).type === 'system')).toBe(true);
  });

  it('a FIFO in place of a transcript is empty at once, not a read waiting for a writer forever', async () => {
    const fifo = join(dir, 'fifo.jsonl');
    execFileSync('mkfifo', [fifo]);
    let timer: NodeJS.Timeout | undefined;
    try {
      const end = await Promise.race([conversationEnd(fifo), new Promise((resolve) => (timer = setTimeout(() => { resolve('still waiting for a writer'); }, 2000)))]);
      expect(end).toBe('empty');
    } finally {
      clearTimeout(timer);
      // Releases a read blocked in open() (the bug this test is about), so the file can end.
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // no reader waiting
      }
    }
  });
});

describe('promptInTranscript: the proof a typed prompt was submitted', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('tail');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  it('finds the prompt written at or after the moment it was typed, and not an older copy', async () => {
    const path = join(dir, 'p.jsonl');
    await writeFile(path, [user(1, 'Continue the task'), assistant(2, [{ type: 'text', text: 'ok' }])].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const typedAt = new Date(at(10));
    expect(await promptInTranscript(path, 'Continue the task', typedAt)).toBe(false);
    await appendFile(path, JSON.stringify(user(11, [{ type: 'text', text: 'Continue the task' }])) + '\n');
    expect(await promptInTranscript(path, 'Continue the task', typedAt)).toBe(true);
    expect(await promptInTranscript(path, 'Another prompt', typedAt)).toBe(false);
    expect(await promptInTranscript(join(dir, 'missing.jsonl'), 'Continue the task', typedAt)).toBe(false);
  });
});

describe('continuedSince: whether a cut-off conversation already got its continuation', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('tail');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });
  const prompt = 'Continue the task';
  const write = async (name: string, records: unknown[]) => {
    const path = join(dir, name);
    await writeFile(path, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    return path;
  };

  it('counts a continuation typed since, after the limit that cut the conversation off', async () => {
    const path = await write('c1.jsonl', [user(1, 'Refactor'), limit(2), system(3, 'Usage limit reached'), user(11, prompt)]);
    expect(await continuedSince(path, prompt, new Date(at(10)))).toBe(true);
    await appendFile(path, JSON.stringify(assistant(12, [{ type: 'text', text: 'Step 1 of 1 done.' }])) + '\n');
    expect(await continuedSince(path, prompt, new Date(at(10)))).toBe(true);
  });

  it('finds a continuation followed by a long answer (1 MB of records since): recovery must never continue it twice', async () => {
    const answer = Array.from({ length: 250 }, (_, i) => assistant(12 + i / 100, [{ type: 'text', text: 'z'.repeat(4000) }]));
    const path = await write('long.jsonl', [user(1, 'Refactor'), limit(2), user(11, prompt), ...answer]);
    expect(await continuedSince(path, prompt, new Date(at(10)))).toBe(true);
    expect(await promptInTranscript(path, prompt, new Date(at(10)))).toBe(true);
  });

  it("does not count the continuation of an earlier cut, however recent: a new limit or interruption came after it", async () => {
    const earlier = [user(1, 'Refactor'), limit(2), user(3, prompt), assistant(4, [{ type: 'text', text: 'done' }]), user(5, 'Next task')];
    expect(await continuedSince(await write('c2.jsonl', [...earlier, limit(6)]), prompt, new Date(at(2)))).toBe(false);
    expect(await continuedSince(await write('c3.jsonl', [...earlier, user(6, '[Request interrupted by user]')]), prompt, new Date(at(2)))).toBe(false);
    // Older than the moment the relaunch began: not this swap's.
    expect(await continuedSince(await write('c4.jsonl', earlier.slice(0, 4)), prompt, new Date(Date.parse(at(3)) + 1))).toBe(false);
    expect(await continuedSince(join(dir, 'missing.jsonl'), prompt, new Date(at(0)))).toBe(false);
  });
});
