import { join } from 'node:path';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../test/helpers/cli.js';

const screens = join(process.cwd(), 'test/fixtures/screens');
const NOW = '2026-11-24T20:00:00Z';

function run(args: string[], input?: string) {
  return runCli(['detect', '--now', NOW, '--tz', 'UTC', ...args], { input });
}

describe('claude-failover detect', () => {
  it('reports the verdict and the rule for captures, banners and transcripts (--json)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-detect-'));
    const transcript = join(dir, 'abc.jsonl');
    writeFileSync(
      transcript,
      [
        JSON.stringify({ type: 'user', sessionId: 'abc', timestamp: NOW, message: { role: 'user', content: 'go' } }),
        'junk line',
        JSON.stringify({ type: 'assistant', sessionId: 'abc', timestamp: NOW, isApiErrorMessage: true, error: 'rate_limit', message: { content: [{ type: 'text', text: "You've hit your 5-hour limit · resets 9:51pm (UTC)" }] }, quotaLimits: { resetsAt: 1795571460, rateLimitType: 'five_hour' } }),
      ].join('\n'),
    );
    const banner = join(dir, 'banner.txt');
    writeFileSync(banner, "You've used 95% of your 5-hour limit · resets 9:55pm (UTC)\n");
    const out = await run(['--json', join(screens, 'limited-5h.txt'), join(screens, 'old-banner-scrollback.txt'), transcript, banner]);
    expect(out.code).toBe(0);
    const verdicts = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(verdicts).toEqual([
      { input: join(screens, 'limited-5h.txt'), blocked: true, kind: 'five_hour', resetsAt: '2026-11-24T21:51:00.000Z', state: 'limited', rule: 'screen:limited:banner:hit-your-limit' },
      { input: join(screens, 'old-banner-scrollback.txt'), blocked: false, kind: null, resetsAt: null, state: 'idle', rule: 'screen:idle:prompt-box' },
      { input: transcript, blocked: true, kind: 'five_hour', resetsAt: new Date(1795571460 * 1000).toISOString(), state: null, rule: 'transcript:limit-record' },
      { input: banner, blocked: false, kind: 'five_hour', resetsAt: '2026-11-24T21:55:00.000Z', state: null, rule: 'warning:used-percent' },
    ]);
  });

  it('reads stdin, explains in plain words, and names an unreadable file while still reporting the rest', async () => {
    const plain = await run([], 'Weekly limit reached · resets Dec 2, 7pm (Europe/Moscow)\n');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain('stdin: LIMITED (seven_day)');
    expect(plain.stdout).toContain('rule:   banner:limit-reached');
    expect(plain.stdout).toContain('resets: 2026-12-02T16:00:00.000Z');
    const mixed = await run(['/nonexistent/pane.txt', join(screens, 'idle.txt')]);
    expect(mixed.code).toBe(1);
    expect(mixed.stderr).toContain('cannot read /nonexistent/pane.txt');
    expect(mixed.stdout).toContain('not limited');
    expect((await runCli(['detect', '--help'])).stdout).toContain('Run it when a switch did not happen');
  });
});
