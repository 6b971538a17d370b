import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.js';
import { includesPrompt, mainClaude, nowSeconds, tokenOf, waitForIdle, waitForTurn } from './helpers.js';
import { scenario } from './scenario.js';

const alpha = tokenOf('alpha');
const beta = tokenOf('beta');
const HOOK_EVENTS = ['SessionStart', 'UserPromptSubmit', 'Stop', 'StopFailure'];

describe('what the real CLI reports (real Claude Code)', () => {
  it('(f) the hooks init installs fire, and the daemon detects the limit from them alone', async () => {
    await scenario({ claude: mainClaude(), accounts: ['alpha', 'beta'], dedicated: ['web'], daemon: { sources: new Set(['hook'] as const) } }, async (sandbox) => {
      const { daemon, standIn, config } = sandbox;
      // What init wrote: one of our hooks per event, in every account's settings.json.
      for (const account of config.accounts) {
        const settings = JSON.parse(readFileSync(join(account.home, 'settings.json'), 'utf8')) as { hooks?: Record<string, unknown[]> };
        for (const event of HOOK_EVENTS) expect(settings.hooks?.[event]?.length, `${account.name} ${event} hook`).toBeGreaterThan(0);
      }
      await waitForIdle(sandbox, ['web']);
      const id = sandbox.sessionIdOf('web');
      expect(await daemon.pool.sendPrompt('web', 'Say hello to the hooks')).toBe(true);
      await waitForTurn(sandbox, 'the first prompt', (r) => includesPrompt(r, 'Say hello to the hooks'));
      await waitForIdle(sandbox, ['web']);
      standIn.addRule(alpha, { match: (r) => r.hasTools && includesPrompt(r, 'TASK-F'), reply: { kind: 'limit', claim: 'five_hour', resetsAt: nowSeconds() + 3600, delayMs: 1000 } });
      expect(await daemon.pool.sendPrompt('web', 'TASK-F: check the hooks')).toBe(true);
      await waitFor(() => sandbox.doneSwaps().length >= 1, { timeoutMs: 60_000, what: 'the swap alpha → beta, detected from a hook' });
      expect(sandbox.doneSwaps()[0]).toMatchObject({ from: 'alpha', to: 'beta' });
      await waitForTurn(sandbox, "the continuation with beta's token", (r) => r.token === beta && r.sessionId === id && includesPrompt(r, config.claude.resumePrompt));

      // Every event reached the daemon from the real CLI, for this conversation.
      const hooks = await waitFor(
        () => {
          const seen = sandbox.daemonLogRecords().filter((l) => l.msg === 'hook' && l.sessionId === id).map((l) => String(l.event));
          return HOOK_EVENTS.every((e) => seen.includes(e)) ? seen : undefined;
        },
        { what: 'every hook event in the daemon log' },
      );
      expect(hooks).toEqual(expect.arrayContaining(HOOK_EVENTS));
      // The limit was detected from a hook (the only source listened to).
      const metrics = await (await fetch(`${daemon.httpUrl ?? ''}/metrics`)).text();
      expect(metrics).toMatch(/claude_failover_limit_events_total\{source="hook"\} 1\b/);
    });
  });

  it('(g) a proactive switch from what the CLI reports: the statusline rate_limits fed by the API headers', async () => {
    await scenario(
      { claude: mainClaude(), accounts: ['alpha', 'beta'], dedicated: ['web'], monitor: { proactivePercent: 80, proactiveGraceMs: 2000 } },
      async (sandbox) => {
        const { daemon, standIn, config } = sandbox;
        // Alpha's answers say 91 % of its 5-hour window is used (anthropic-ratelimit-unified-5h-utilization).
        standIn.script(alpha, { answer: { kind: 'answer', text: 'Done.', utilization5h: 0.91, status: 'allowed_warning' } });
        standIn.script(beta, { answer: { kind: 'answer', text: 'Done on beta.', utilization5h: 0.1 } });
        await waitForIdle(sandbox, ['web']);
        const id = sandbox.sessionIdOf('web');
        expect(await daemon.pool.sendPrompt('web', 'Say hello near the limit')).toBe(true);
        await waitForTurn(sandbox, 'the prompt on alpha', (r) => r.token === alpha && includesPrompt(r, 'Say hello near the limit'));

        await waitFor(() => sandbox.doneSwaps().length >= 1, { timeoutMs: 60_000, what: 'the proactive swap alpha → beta' });
        expect(sandbox.doneSwaps()[0]).toMatchObject({ from: 'alpha', to: 'beta' });
        expect((await daemon.status()).swaps[0]).toMatchObject({ from: 'alpha', to: 'beta', result: 'done', trigger: 'proactive' });
        expect((await daemon.status()).accounts.find((a) => a.name === 'alpha')?.usagePercent).toBe(91);
        // Nothing was cut off, so nothing is continued: the session idles on beta with its conversation.
        await waitForIdle(sandbox, ['web']);
        expect(daemon.store.getSession('web')).toMatchObject({ account: 'beta', sessionId: id });
        expect(sandbox.turns().filter((r) => includesPrompt(r, config.claude.resumePrompt))).toEqual([]);
        // Its next prompt goes to beta, in the same conversation.
        expect(await daemon.pool.sendPrompt('web', 'Next step after the switch')).toBe(true);
        const next = await waitForTurn(sandbox, 'the next prompt', (r) => includesPrompt(r, 'Next step after the switch'));
        expect(next.token).toBe(beta);
        expect(next.sessionId).toBe(id);
        expect(next.userTexts.some((t) => t.includes('Say hello near the limit'))).toBe(true);
      },
    );
  });
});
