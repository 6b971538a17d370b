import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseLimitText, type LimitKind } from './limit-text.js';
import { parseTranscriptLine } from './transcript-record.js';

interface Template {
  readonly version: string;
  readonly source: 'screen' | 'transcript' | 'screen+transcript';
  readonly template: string;
  readonly rendered: string;
  readonly kind: LimitKind;
  readonly blocking: boolean;
  readonly resetsAt: string | null;
}

// Read out of ten real Claude Code releases (test/fixtures/limit-templates/README.md).
const fixture = JSON.parse(readFileSync(new URL('../../test/fixtures/limit-templates/templates.json', import.meta.url), 'utf8')) as {
  now: string;
  timeZone: string;
  templates: Template[];
};
const now = new Date(fixture.now);
const label = (t: Template) => `${t.version} ${t.blocking ? 'blocks' : 'passes'}: ${t.rendered}`;

/** Releases before 2.0.77 wrote the limit record with no `error` field. */
function writesErrorField(version: string): boolean {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  return major * 1e6 + minor * 1e3 + patch >= 2_000_077;
}

describe('every limit wording of every Claude Code version read', () => {
  it('covers at least five versions, blocking messages and look-alikes', () => {
    expect(new Set(fixture.templates.map((t) => t.version)).size).toBeGreaterThanOrEqual(5);
    expect(fixture.templates.filter((t) => t.blocking).length).toBeGreaterThan(30);
    expect(fixture.templates.filter((t) => !t.blocking).length).toBeGreaterThan(20);
  });

  it.each(fixture.templates.map((t) => [label(t), t] as const))('on screen: %s', (_, t) => {
    const result = parseLimitText(t.rendered, { now, timeZone: fixture.timeZone });
    expect(result.blocked).toBe(t.blocking);
    if (!result.blocked) return;
    expect(result.kind).toBe(t.kind);
    expect(result.resetGuessed).toBe(t.resetsAt === null);
    if (t.resetsAt !== null) expect(result.resetsAt?.toISOString()).toBe(t.resetsAt);
  });

  const written = fixture.templates.filter((t) => t.source !== 'screen');
  it.each(written.map((t) => [label(t), t] as const))('in a transcript: %s', (_, t) => {
    const flagged = writesErrorField(t.version) && (t.blocking || t.rendered.startsWith('API Error'));
    const record = {
      type: 'assistant',
      sessionId: '6c1f3b2a-5d4e-4f3a-9b8c-7d6e5f4a3b2c',
      cwd: '/srv/web',
      timestamp: fixture.now,
      version: t.version,
      message: { role: 'assistant', model: '<synthetic>', content: [{ type: 'text', text: t.rendered }] },
      isApiErrorMessage: true,
      ...(flagged ? { error: 'rate_limit' } : {}),
    };
    const signal = parseTranscriptLine(JSON.stringify(record));
    expect(signal?.type === 'limit').toBe(t.blocking);
    if (signal?.type !== 'limit') return;
    expect(signal.kind).toBe(t.kind);
    // A time with no zone is read in the host's zone here, so only zoned and epoch resets compare.
    if (t.resetsAt === null) expect(signal.resetsAt).toBeNull();
    else if (/\(\w+(?:\/\w+)?\)|\|\d/.test(t.rendered)) expect(signal.resetsAt?.toISOString()).toBe(t.resetsAt);
  });
});
