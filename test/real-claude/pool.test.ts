import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.js';
import { CLI_AUTO_CONTINUE, includesPrompt, mainClaude, nowSeconds, timesInPrompt, tokenOf, waitForIdle, waitForTurn, type RealSandbox } from './helpers.js';
import { scenario } from './scenario.js';

const alpha = tokenOf('alpha');
const beta = tokenOf('beta');
const POOL = ['auto-1', 'auto-2', 'web'];

/**
 * A pool of 2 autonomous + 1 dedicated sessions on alpha. web has a short conversation
 * and idles; auto-1 and auto-2 both start a task that alpha answers, 3 s later, with its
 * 5-hour limit (both requests are in flight before either limit: by construction, both
 * sessions were working when the limit hit). Returns the three conversation ids.
 */
async function twoWorkingOneIdle(sandbox: RealSandbox, resetsAt: number): Promise<Record<string, string>> {
  const { daemon, standIn } = sandbox;
  await waitForIdle(sandbox, POOL);
  expect(await daemon.pool.sendPrompt('web', 'Say hello from web')).toBe(true);
  await waitForTurn(sandbox, "web's first prompt", (r) => includesPrompt(r, 'Say hello from web'));
  await waitForIdle(sandbox, POOL);
  const ids = Object.fromEntries(POOL.map((n) => [n, sandbox.sessionIdOf(n)]));
  standIn.addRule(alpha, { match: (r) => r.hasTools && includesPrompt(r, 'TASK-D'), reply: { kind: 'limit', claim: 'five_hour', resetsAt, delayMs: 3000 }, times: 2 });
  expect(await daemon.pool.sendPrompt('auto-1', 'TASK-D one: refactor the parser')).toBe(true);
  expect(await daemon.pool.sendPrompt('auto-2', 'TASK-D two: write the tests')).toBe(true);
  for (const name of ['auto-1', 'auto-2']) {
    await waitForTurn(sandbox, `${name}'s task on alpha`, (r) => r.token === alpha && r.sessionId === ids[name] && includesPrompt(r, 'TASK-D'));
  }
  return ids;
}

describe('a pool of 2 autonomous + 1 dedicated sessions (real Claude Code)', () => {
  it('(d) all moved; both working sessions continue on beta; the idle one is not prompted', async () => {
    await scenario({ claude: mainClaude(), accounts: ['alpha', 'beta'], autonomous: { min: 2, max: 2 }, dedicated: ['web'] }, async (sandbox) => {
      const { daemon, config } = sandbox;
      const ids = await twoWorkingOneIdle(sandbox, nowSeconds() + 3600);
      await waitFor(() => sandbox.doneSwaps().length >= 1, { timeoutMs: 60_000, what: 'the swap alpha → beta' });
      expect(sandbox.doneSwaps()[0]).toMatchObject({ from: 'alpha', to: 'beta' });
      for (const name of ['auto-1', 'auto-2']) {
        const continued = await waitForTurn(sandbox, `${name}'s continuation with beta's token`, (r) => r.token === beta && r.sessionId === ids[name] && includesPrompt(r, config.claude.resumePrompt));
        expect.soft(timesInPrompt(continued, config.claude.resumePrompt), `${name}'s continuation typed once`).toBe(1);
      }
      // Everything settles: every session idle on beta, with the conversation it had.
      await waitForIdle(sandbox, POOL);
      for (const name of POOL) {
        expect(daemon.store.getSession(name)).toMatchObject({ account: 'beta', sessionId: ids[name] });
      }
      // web had nothing to continue: no request of its conversation reached beta.
      expect(sandbox.turns({ account: 'beta', sessionId: ids.web ?? '' })).toEqual([]);
      // And the swap's summary counts all three as moved.
      expect(sandbox.doneSwaps()[0]?.sessions.filter((s) => s.ok).length).toBe(3);
    });
  });

  it("(e) past alpha's reset: alpha's own automatic continue never fires for the moved sessions, and no session is continued twice", async () => {
    // No return during the test (a long margin): anything on alpha's token after the swap would be the old processes.
    await scenario(
      { claude: mainClaude(), accounts: ['alpha', 'beta'], autonomous: { min: 2, max: 2 }, dedicated: ['web'], monitor: { returnMarginMs: 600_000 } },
      async (sandbox) => {
        const { config } = sandbox;
        const resetsAt = nowSeconds() + 25;
        const ids = await twoWorkingOneIdle(sandbox, resetsAt);
        await waitFor(() => sandbox.doneSwaps().length >= 1, { timeoutMs: 60_000, what: 'the swap alpha → beta' });
        const swappedAt = Date.now();
        for (const name of ['auto-1', 'auto-2']) {
          await waitForTurn(sandbox, `${name}'s continuation with beta's token`, (r) => r.token === beta && r.sessionId === ids[name] && includesPrompt(r, config.claude.resumePrompt));
        }
        // The observation window: alpha's reset, plus 10 s for the CLI's own continue to have fired.
        await waitFor(() => Date.now() > (resetsAt + 10) * 1000, { timeoutMs: 60_000, intervalMs: 500, what: "alpha's reset plus 10 s" });
        await waitForIdle(sandbox, POOL);
        const turns = sandbox.turns();
        expect(turns.filter((r) => includesPrompt(r, CLI_AUTO_CONTINUE))).toEqual([]);
        expect(turns.filter((r) => r.token === alpha && r.at > swappedAt)).toEqual([]);
        for (const name of POOL) {
          const continuations = turns.filter((r) => r.sessionId === ids[name] && includesPrompt(r, config.claude.resumePrompt));
          expect(continuations.length, `continuations of ${name}`).toBe(name === 'web' ? 0 : 1);
        }
      },
    );
  });
});
