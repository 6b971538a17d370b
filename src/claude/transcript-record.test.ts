import { describe, expect, it } from 'vitest';
import { encodeProjectDir, parseTranscriptLine, transcriptPath } from './transcript-record.js';

const limitRecord = {
  parentUuid: 'p1',
  isSidechain: false,
  userType: 'external',
  cwd: '/srv/web',
  sessionId: '6c1f3b2a-5d4e-4f3a-9b8c-7d6e5f4a3b2c',
  version: '2.1.330',
  type: 'assistant',
  message: { id: 'msg_1', type: 'message', role: 'assistant', model: '<synthetic>', content: [{ type: 'text', text: "You've hit your 5-hour limit · resets 9:51pm (UTC)" }] },
  error: 'rate_limit',
  isApiErrorMessage: true,
  apiErrorStatus: 429,
  apiError: 'usage_limit_reached',
  quotaLimits: { status: 'rejected', resetsAt: 1795555860, rateLimitType: 'five_hour', isUsingOverage: false },
  uuid: 'u1',
  timestamp: '2026-11-24T20:00:00.000Z',
};

describe('parseTranscriptLine', () => {
  it('reads a limit record with its exact reset from quotaLimits', () => {
    expect(parseTranscriptLine(JSON.stringify(limitRecord))).toEqual({
      type: 'limit',
      sessionId: limitRecord.sessionId,
      cwd: '/srv/web',
      timestamp: new Date('2026-11-24T20:00:00.000Z'),
      kind: 'five_hour',
      resetsAt: new Date(1795555860 * 1000),
      text: "You've hit your 5-hour limit · resets 9:51pm (UTC)",
    });
  });

  it('falls back to the banner text in records of versions without quotaLimits', () => {
    const { quotaLimits: _q, apiErrorStatus: _s, apiError: _a, ...older } = limitRecord;
    const signal = parseTranscriptLine(JSON.stringify(older));
    expect(signal).toMatchObject({ type: 'limit', kind: 'five_hour', resetsAt: new Date('2026-11-24T21:51:00.000Z') });
  });

  it('reports user and assistant records as activity and skips the rest', () => {
    expect(parseTranscriptLine(JSON.stringify({ type: 'user', sessionId: 's', cwd: '/x', timestamp: '2026-11-24T20:00:00Z', message: { role: 'user', content: 'hi' } }))).toMatchObject({ type: 'activity', role: 'user', sessionId: 's' });
    expect(parseTranscriptLine(JSON.stringify({ type: 'system', sessionId: 's', content: 'Usage limit reached' }))).toBeNull();
  });

  it.each(['', 'not json', '{"broken":', '[1,2]', 'null', '{"type":"user"}'])('never throws on junk: %j', (line) => {
    expect(parseTranscriptLine(line)).toBeNull();
  });
});

describe('project folder names', () => {
  it('replaces every character outside [A-Za-z0-9] with "-"', () => {
    expect(encodeProjectDir('/home/me/src/my_app.v2')).toBe('-home-me-src-my-app-v2');
    expect(transcriptPath('/h/.claude-work', '/srv/web', 'abc')).toBe('/h/.claude-work/projects/-srv-web/abc.jsonl');
  });

  it('cuts names over 200 characters and keeps them distinct with a hash', () => {
    const a = encodeProjectDir('/' + 'a'.repeat(250));
    const b = encodeProjectDir('/' + 'a'.repeat(251));
    expect(a).toHaveLength(209);
    expect(a.slice(0, 200)).toBe(b.slice(0, 200));
    expect(a).not.toBe(b);
  });
});
