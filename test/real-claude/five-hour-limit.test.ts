import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.js';
import { includesPrompt, mainClaude, timesInPrompt, nowSeconds, olderClaude, repeatCount, tokenOf, waitForIdle, waitForTurn, type RealClaude, type RealSandbox } from './helpers.js';
import { scenario } from './scenario.js';

/**
 * Scenario (a), and (h) with the older CLI: one dedicated session, accounts alpha and beta.
 * Alpha hits its 5-hour limit mid-task → the daemon swaps → the same conversation continues
 * on beta's token; after alpha's reset the pool returns and the conversation is answered on
 * alpha's token again. Everything is read from what reached the stand-in API.
 */
async function fiveHourLimitAndReturn(sandbox: RealSandbox): Promise<void> {
  const { daemon, standIn, config } = sandbox;
  const alpha = tokenOf('alpha');
  const beta = tokenOf('beta');
  await waitForIdle(sandbox, ['web']);
  const id = sandbox.sessionIdOf('web');

  // A first exchange on alpha: the conversation exists and its requests carry its id.
  expect(await daemon.pool.sendPrompt('web', 'Say hello to the parser')).toBe(true);
  const hello = await waitForTurn(sandbox, 'the first prompt at the stand-in', (r) => includesPrompt(r, 'Say hello to the parser'));
  expect(hello.token).toBe(alpha);
  expect(hello.sessionId).toBe(id);
  await waitForIdle(sandbox, ['web']);

  // The next task: alpha answers slowly (the session is working), then with its 5-hour limit.
  const resetsAt = nowSeconds() + 30;
  standIn.addRule(alpha, { match: (r) => r.hasTools && includesPrompt(r, 'TASK-A'), reply: { kind: 'limit', claim: 'five_hour', resetsAt, delayMs: 2000 } });
  expect(await daemon.pool.sendPrompt('web', 'TASK-A: refactor the parser')).toBe(true);
  const limited = await waitForTurn(sandbox, 'the task on alpha', (r) => r.token === alpha && includesPrompt(r, 'TASK-A'));
  expect(limited.sessionId).toBe(id);

  await waitFor(() => sandbox.doneSwaps().length >= 1, { timeoutMs: 60_000, what: 'the swap alpha → beta' });
  expect(sandbox.doneSwaps()[0]).toMatchObject({ from: 'alpha', to: 'beta' });
  expect(limited.status).toBe(429);

  // The continuation: the same conversation (same id, its history) on beta's token.
  const continued = await waitForTurn(
    sandbox,
    "the continuation with beta's token for the same session",
    (r) => r.token === beta && r.sessionId === id && includesPrompt(r, config.claude.resumePrompt),
    60_000,
  );
  expect.soft(timesInPrompt(continued, config.claude.resumePrompt), 'the continuation prompt typed once, not twice into one input').toBe(1);
  expect(continued.userTexts.some((t) => t.includes('Say hello to the parser'))).toBe(true);
  expect(continued.userTexts.some((t) => t.includes('TASK-A'))).toBe(true);
  expect(sandbox.sessionIdOf('web')).toBe(id);
  expect(daemon.store.getSession('web')?.account).toBe('beta');
  // Nothing reached the stand-in on beta's token before the swap.
  const firstBeta = sandbox.turns({ account: 'beta' })[0];
  expect(firstBeta?.at).toBeGreaterThanOrEqual(limited.at);

  // The return after alpha's reset (plus the margin): the same conversation, on alpha again.
  await waitFor(() => sandbox.doneSwaps().length >= 2, { timeoutMs: 90_000, what: 'the return to alpha after its reset' });
  expect(sandbox.doneSwaps()[1]).toMatchObject({ from: 'beta', to: 'alpha' });
  const back = (await daemon.status()).swaps[0];
  expect(back).toMatchObject({ from: 'beta', to: 'alpha', result: 'done', trigger: 'return' });
  expect(new Date(back?.at ?? 0).getTime()).toBeGreaterThanOrEqual(resetsAt * 1000);
  await waitForIdle(sandbox, ['web']);
  // 2.0.77 reopens its rate-limit menu over the resumed history: the daemon closes it.
  await waitFor(() => !sandbox.screen('web').includes('What do you want to do?'), { timeoutMs: 15_000, what: 'no rate-limit menu holding the keyboard after the return' });
  expect(sandbox.sessionIdOf('web')).toBe(id);
  expect(await daemon.pool.sendPrompt('web', 'After the return: add a test')).toBe(true);
  const after = await waitForTurn(sandbox, 'the prompt after the return', (r) => includesPrompt(r, 'After the return: add a test'));
  expect(after.token).toBe(alpha);
  expect(after.sessionId).toBe(id);
  expect(after.userTexts.some((t) => t.includes('TASK-A'))).toBe(true);
  expect(after.userTexts.some((t) => t.includes(config.claude.resumePrompt))).toBe(true);
  // One continuation, on beta; none on alpha's token.
  expect(sandbox.turns({ sessionId: id }).filter((r) => includesPrompt(r, config.claude.resumePrompt)).map((r) => r.token)).toEqual([beta]);
}

function options(claude: RealClaude) {
  return { claude, accounts: ['alpha', 'beta'], dedicated: ['web'] };
}

describe('(a) 5-hour limit mid-conversation → swap → continuation on beta → return to alpha', () => {
  const runs = repeatCount();
  for (let i = 1; i <= runs; i++) {
    it(`with Claude Code ${process.env.CLAUDE_FAILOVER_REAL_CLAUDE_VERSION ?? '(main)'}${runs > 1 ? `, run ${String(i)} of ${String(runs)}` : ''}`, async () => {
      await scenario(options(mainClaude()), fiveHourLimitAndReturn);
    });
  }
});

describe('(h) scenario (a) with an older Claude Code', () => {
  it(`with Claude Code ${process.env.CLAUDE_FAILOVER_REAL_CLAUDE_OLDER_VERSION ?? '(older)'}`, async () => {
    await scenario(options(olderClaude()), fiveHourLimitAndReturn);
  });
});
