import { describe, expect, it } from 'vitest';
import { tmux } from '../helpers/e2e.js';
import { waitFor } from '../helpers/wait-for.js';
import { recordFigure } from '../reliability/figures.js';
import { includesPrompt, mainClaude, nowSeconds, timesInPrompt, tokenOf, waitForIdle, waitForTurn } from './helpers.js';
import { scenario } from './scenario.js';

const SESSIONS = 6;
const NAMES = Array.from({ length: SESSIONS }, (_, i) => `auto-${String(i + 1)}`);
const TEST = 'test/real-claude/reliability-storm.test.ts';

describe('reliability: a storm of limits (real Claude Code)', () => {
  it(`${String(SESSIONS)} working sessions hit alpha's limit within a second: one swap, one notification, ${String(SESSIONS)} continuations on beta`, async () => {
    const started = Date.now();
    await scenario({ claude: mainClaude(), accounts: ['alpha', 'beta'], autonomous: { min: SESSIONS, max: SESSIONS }, monitor: { returnMarginMs: 3_600_000 } }, async (sandbox) => {
      const { standIn, config } = sandbox;
      const prompt = config.claude.resumePrompt;
      await waitForIdle(sandbox, NAMES, 120_000);
      const ids = Object.fromEntries(NAMES.map((n) => [n, sandbox.sessionIdOf(n)]));
      // Every task is held at the stand-in, working, until one moment, then answered by alpha's limit: six 429s at once.
      let limitAt = Number.POSITIVE_INFINITY;
      const reply = { kind: 'limit' as const, claim: 'five_hour' as const, resetsAt: nowSeconds() + 3600, get delayMs() { return Math.max(0, limitAt - Date.now()); } };
      standIn.addRule(tokenOf('alpha'), { match: (r) => r.hasTools && includesPrompt(r, 'STORM'), reply, times: SESSIONS });
      for (const name of NAMES) tmux(sandbox.socket, 'send-keys', '-t', `=${name}:`, '-l', `STORM task for ${name}`);
      await waitFor(() => NAMES.every((n) => sandbox.screen(n).includes(`STORM task for ${n}`)), { timeoutMs: 20_000, what: 'every task typed' });
      limitAt = Date.now() + 4000;
      for (const name of NAMES) tmux(sandbox.socket, 'send-keys', '-t', `=${name}:`, 'Enter');
      const tasks = await waitFor(() => {
        const seen = sandbox.turns({ account: 'alpha' }).filter((r) => includesPrompt(r, 'STORM'));
        return seen.length >= SESSIONS ? seen : false;
      }, { timeoutMs: 30_000, what: 'every task at the stand-in' });
      // When each 429 left (held until limitAt; one that came later went at once).
      const limitTimes = tasks.map((r) => Math.max(r.at, limitAt));
      const spreadMs = Math.max(...limitTimes) - Math.min(...limitTimes);

      await waitFor(() => sandbox.doneSwaps().length >= 1, { timeoutMs: 90_000, what: 'the swap alpha → beta' });
      const swapDoneAt = Date.now();
      const continued = await Promise.all(NAMES.map((n) => waitForTurn(sandbox, `${n}'s continuation on beta`, (r) => r.token === tokenOf('beta') && r.sessionId === ids[n] && includesPrompt(r, prompt), 90_000)));
      await waitForIdle(sandbox, NAMES, 90_000);
      const continuations = NAMES.map((n) => sandbox.turns({ sessionId: ids[n] ?? '' }).filter((r) => r.lastUserText.includes(prompt)).length);
      const notifications = sandbox.daemonLogRecords().filter((r) => typeof r.event === 'string' && ['swap-done', 'returned', 'continuation-lost', 'no-account', 'swap-cancelled'].includes(r.event));
      const checks = {
        // Every task was in flight when the limits came (how close together is a figure, not a promise).
        allInFlight: tasks.every((r) => r.at < limitAt),
        oneSwap: sandbox.doneSwaps().length === 1 && sandbox.outcomes.filter((o) => o.result !== 'skipped' && o.result !== 'deferred').length === 1,
        oneNotification: notifications.length === 1 && notifications[0]?.event === 'swap-done',
        continuedOnceEach: continuations.every((c) => c === 1) && continued.every((r) => timesInPrompt(r, prompt) === 1),
        idsKept: NAMES.every((n) => sandbox.daemon.store.getSession(n)?.sessionId === ids[n] && sandbox.daemon.store.getSession(n)?.account === 'beta'),
      };
      recordFigure({
        probe: `${String(SESSIONS)} sessions hit the limit within one second, real Claude Code`,
        test: TEST,
        runs: 1,
        passes: Object.values(checks).every(Boolean) ? 1 : 0,
        measured: {
          sessions: SESSIONS,
          limitSpreadMs: spreadMs,
          swaps: sandbox.doneSwaps().length,
          requestsAnswered: sandbox.outcomes.length,
          notifications: notifications.length,
          continuations: continuations.reduce((a, b) => a + b, 0),
          lastLimitToSwapDoneMs: swapDoneAt - Math.max(...limitTimes),
          wallS: Math.round((Date.now() - started) / 1000),
        },
      });
      expect(checks).toEqual({ allInFlight: true, oneSwap: true, oneNotification: true, continuedOnceEach: true, idsKept: true });
    });
  });
});
