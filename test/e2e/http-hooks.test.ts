import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { ControlEvent } from '../../src/monitor/control-socket.js';
import { waitFor } from '../helpers/wait-for.js';
import { waitForIdlePool } from '../helpers/e2e.js';
import { useE2e } from '../helpers/e2e-fixture.js';

type Hook = { type: string; url?: string; command?: string };

describe('hooks over HTTP (real tmux, fake Claude Code 2.1.330, the daemon on port 0)', () => {
  const e2e = useE2e('cf-http-hooks');

  it('points every account at the bound port once it listens; a limit reaches it as a StopFailure POST with the pane, the statusline as a POST from the bash script', async () => {
    const resetsAt = Math.floor(Date.now() / 1000) + 2 * 3600;
    const sandbox = await e2e.sandbox({
      accounts: [
        { name: 'A', quota: { limit: 2, used: 0, resetsAt, windowSeconds: 18000, turnMs: 150 } },
        { name: 'B', quota: { limit: 1000, windowSeconds: 18000, turnMs: 150 } },
      ],
      autonomous: { min: 1, max: 1 },
      monitor: { returnMarginMs: 600_000 },
      server: { listen: '127.0.0.1:0' },
    });
    const { outcomes } = e2e;
    // The hook signal alone: the swap can only come from the StopFailure the fake POSTs.
    const d = await e2e.startDaemon(sandbox, { http: true, sources: new Set(['hook']) });
    const port = new URL(d.httpUrl ?? '').port;
    expect(Number(port)).toBeGreaterThan(0);
    for (const account of sandbox.config.accounts) {
      const settings = JSON.parse(readFileSync(join(account.home, 'settings.json'), 'utf8')) as { hooks: Record<string, { hooks: Hook[] }[]> };
      const only = (event: string) => settings.hooks[event]?.flatMap((g) => g.hooks) ?? [];
      expect(only('StopFailure'), account.name).toEqual([expect.objectContaining({ type: 'http', url: `http://127.0.0.1:${port}/hooks` })]);
      expect(only('UserPromptSubmit').map((h) => h.type)).toEqual(['http']);
      expect(only('SessionStart').map((h) => h.type)).toEqual(['command']);
      expect(JSON.stringify(settings)).toContain('statusline.sh');
    }
    const seen: ControlEvent[] = [];
    const handle = d.monitor.handleControlEvent.bind(d.monitor);
    vi.spyOn(d.monitor, 'handleControlEvent').mockImplementation((event) => {
      seen.push(event);
      handle(event);
    });
    await waitForIdlePool(d, ['auto-1']);
    const pane = (await d.pool.poolPanes()).get('auto-1')?.paneId;

    expect(await d.pool.sendPrompt('auto-1', 'A task longer than the quota [turns=4]')).toBe(true);

    await waitFor(() => outcomes.some((o) => o.result === 'done'), { timeoutMs: 45_000, what: 'the swap on the HTTP StopFailure' });
    expect(outcomes.find((o) => o.result === 'done')).toMatchObject({ from: 'A', to: 'B' });
    expect(d.store.getLedgerEntry('A')?.source?.split(':')[0]).toBe('hook');
    const failure = seen.find((e) => e.type === 'hook' && e.event === 'StopFailure');
    expect(failure).toMatchObject({ type: 'hook', event: 'StopFailure', payload: { error: 'rate_limit', hook_event_name: 'StopFailure' } });
    expect(pane).toMatch(/^%\d+$/);
    expect(failure?.pane).toBe(pane);
    // The statusline is the bash script now: its JSON (usage figures) arrives over HTTP too.
    await waitFor(() => seen.some((e) => e.type === 'statusline' && e.pane === pane), { timeoutMs: 10_000, what: 'a statusline POST' });
  });
});
