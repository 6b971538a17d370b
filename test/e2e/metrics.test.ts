import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TASK_STATES } from '../../src/store/task-queue.js';
import { waitFor } from '../helpers/wait-for.js';
import { waitForIdlePool } from '../helpers/e2e.js';
import { useE2e } from '../helpers/e2e-fixture.js';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The Prometheus text format, sample lines only (`name{a="b",…} value`). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key ?? ''] = value ?? '';
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

describe('/metrics after a real swap (real tmux, fake Claude Code, HTTP on 127.0.0.1)', () => {
  const e2e = useE2e('cf-metrics', { telegram: true });

  it('serves every family with its labels: swaps, duration, detection, continuations, accounts, sessions, tasks, hooks, notifications, the process', async () => {
    const sandbox = await e2e.sandbox({
      accounts: [
        { name: 'A', quota: { limit: 3, used: 0, windowSeconds: 3600, turnMs: 200 } },
        { name: 'B', quota: { limit: 1000, used: 0, windowSeconds: 18000, turnMs: 200 } },
        // Never in use: no statusline writes its readings, so a reading kept for it here stands.
        { name: 'C', quota: { limit: 1000, used: 0, windowSeconds: 18000, turnMs: 200 } },
      ],
      dedicated: ['web'],
      monitor: { returnMarginMs: 600_000 },
    });
    const d = await e2e.startDaemon(sandbox, { http: true });
    await waitForIdlePool(d, ['web']);
    expect(await d.pool.sendPrompt('web', 'Long task [turns=6]')).toBe(true);
    await waitFor(() => e2e.doneSwaps().length === 1, { timeoutMs: 60_000, what: 'the swap to B' });
    const swap = e2e.doneSwaps()[0];
    // The swap-done notice reaches the Telegram stand-in; its delivery is then on record.
    await waitFor(() => d.notifier.deliveries().some((x) => x.kind === 'swap-done'), { what: 'the swap notice delivered' });

    const response = await fetch(`${d.httpUrl ?? ''}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const samples = parseExposition(await response.text());
    const family = (name: string) => samples.filter((s) => s.name === `claude_failover_${name}`);
    const value = (name: string, labels: Record<string, string>) => {
      const found = family(name).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
      expect(found, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
      return found[0]?.value;
    };

    // Swaps by trigger and result, and how long the one swap took.
    expect(value('swaps_total', { trigger: 'limit', result: 'done' })).toBe(1);
    expect(value('swap_duration_seconds_count', { result: 'done' })).toBe(1);
    expect(value('swap_duration_seconds_sum', { result: 'done' })).toBeGreaterThan(0);
    expect(family('swap_duration_seconds_bucket').every((s) => s.labels.result === 'done' && s.labels.le !== undefined)).toBe(true);

    // The continuation: what the swap's outcome says, counted by result.
    const delivered = swap?.sessions.filter((s) => s.continuation === 'delivered').length ?? -1;
    expect(delivered).toBe(1);
    expect(value('continuations_total', { result: 'delivered' })).toBe(delivered);
    expect(value('continuations_total', { result: 'not-delivered' })).toBe(0);

    // The limit: one event, its latency observed under the signal that saw it first.
    const limits = family('limit_events_total').filter((s) => s.value > 0);
    expect(limits).toHaveLength(1);
    const source = limits[0]?.labels.source ?? '';
    expect(['hook', 'transcript', 'statusline', 'screen']).toContain(source);
    expect(value('detection_latency_seconds_count', { source })).toBe(1);
    expect(family('detection_latency_seconds_bucket').filter((s) => s.labels.source === source).length).toBeGreaterThan(1);

    // Accounts: A exhausted, B active; each window's latest reading not yet reset (a 0-1 ratio).
    expect(value('account_exhausted', { account: 'A' })).toBe(1);
    expect(value('account_exhausted', { account: 'B' })).toBe(0);
    expect(value('active_account', { account: 'B' })).toBe(1);
    expect(value('active_account', { account: 'A' })).toBe(0);
    const usage = family('account_usage_ratio');
    // A's limit record is a reading of 100% of its five-hour window, which has not reset.
    expect(value('account_usage_ratio', { account: 'A', window: 'five_hour' })).toBe(1);
    for (const s of usage) {
      expect(['A', 'B']).toContain(s.labels.account);
      expect(['five_hour', 'seven_day']).toContain(s.labels.window);
      const window = s.labels.window === 'seven_day' ? 'seven_day' : 'five_hour';
      const latest = d.store.latestUsageReading(s.labels.account ?? '', window);
      expect(s.value).toBeCloseTo((latest?.percent ?? -100) / 100, 6);
    }
    // A window with no reading has no series until one is kept (here as the usage poll keeps one).
    expect(usage.filter((s) => s.labels.account === 'C')).toEqual([]);
    d.store.addUsageReading({ account: 'C', window: 'seven_day', percent: 42, resetsAt: new Date(Date.now() + 86_400_000), source: 'poll' });
    const rescraped = parseExposition(await (await fetch(`${d.httpUrl ?? ''}/metrics`)).text());
    expect(rescraped.filter((s) => s.name === 'claude_failover_account_usage_ratio' && s.labels.account === 'C').map((s) => [s.labels.window, s.value])).toEqual([['seven_day', 0.42]]);
    expect(value('partial_swap', {})).toBe(0);

    // Sessions and tasks by state, read from the store at the scrape.
    const states = family('sessions');
    expect(states.map((s) => s.labels.state).sort()).toEqual(['dead', 'idle', 'limited', 'starting', 'working']);
    expect(states.reduce((n, s) => n + s.value, 0)).toBe(1);
    const counts = await d.store.tasks.counts();
    for (const state of TASK_STATES) expect(value('tasks', { state })).toBe(counts[state]);

    // Hook events by type: the prompts web submitted and its answers, and statusline updates.
    expect(value('hook_events_total', { type: 'UserPromptSubmit' })).toBeGreaterThanOrEqual(2);
    expect(value('hook_events_total', { type: 'statusline' })).toBeGreaterThanOrEqual(1);
    for (const s of family('hook_events_total')) expect(s.labels.type).toMatch(/^(SessionStart|UserPromptSubmit|Stop|StopFailure|statusline|other|[A-Z][A-Za-z]+)$/);

    // Notifications by channel and result.
    const okTelegram = d.notifier.deliveries().filter((x) => x.channel === 'telegram' && x.ok).length;
    expect(okTelegram).toBeGreaterThan(0);
    expect(value('notifications_total', { channel: 'telegram', result: 'ok' })).toBe(okTelegram);

    // The process's own.
    expect(family('process_cpu_user_seconds_total')).toHaveLength(1);
    expect(family('process_resident_memory_bytes')).toHaveLength(1);
    expect(family('nodejs_heap_size_used_bytes')).toHaveLength(1);

    // The sample dashboard asks only for what is served.
    const dashboard = readFileSync(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8');
    const asked = new Set(dashboard.match(/claude_failover_[a-z_]+/g));
    expect(asked.size).toBeGreaterThan(10);
    const served = new Set(samples.map((s) => s.name));
    for (const name of asked) expect(served, name).toContain(name);
  });
});
