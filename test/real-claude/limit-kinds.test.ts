import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.js';
import { includesPrompt, mainClaude, nowSeconds, timesInPrompt, tokenOf, waitForIdle, waitForTurn } from './helpers.js';
import { scenario } from './scenario.js';

const alpha = tokenOf('alpha');
const beta = tokenOf('beta');

describe('limits of other kinds and at other moments (real Claude Code)', () => {
  it('(b) the weekly limit: swap, continuation on beta, alpha exhausted until the weekly reset', async () => {
    await scenario({ claude: mainClaude(), accounts: ['alpha', 'beta'], dedicated: ['web'] }, async (sandbox) => {
      const { daemon, standIn, config } = sandbox;
      await waitForIdle(sandbox, ['web']);
      const id = sandbox.sessionIdOf('web');
      const resetsAt = nowSeconds() + 3 * 24 * 3600 + 1800;
      standIn.addRule(alpha, { match: (r) => r.hasTools && includesPrompt(r, 'TASK-B'), reply: { kind: 'limit', claim: 'seven_day', resetsAt, delayMs: 1500 } });
      expect(await daemon.pool.sendPrompt('web', 'TASK-B: write the weekly report')).toBe(true);
      const limited = await waitForTurn(sandbox, 'the task on alpha', (r) => r.token === alpha && includesPrompt(r, 'TASK-B'));
      expect(limited.sessionId).toBe(id);

      await waitFor(() => sandbox.doneSwaps().length >= 1, { timeoutMs: 60_000, what: 'the swap alpha → beta' });
      expect(sandbox.doneSwaps()[0]).toMatchObject({ from: 'alpha', to: 'beta' });
      const continued = await waitForTurn(sandbox, "the continuation with beta's token", (r) => r.token === beta && r.sessionId === id && includesPrompt(r, config.claude.resumePrompt));
      expect.soft(timesInPrompt(continued, config.claude.resumePrompt), 'the continuation typed once').toBe(1);
      expect(continued.userTexts.some((t) => t.includes('TASK-B'))).toBe(true);
      expect(sandbox.sessionIdOf('web')).toBe(id);

      // The ledger knows it is the weekly limit and when it resets (the epoch the API sent).
      const weekly = await waitFor(
        async () => {
          const a = (await daemon.status()).accounts.find((x) => x.name === 'alpha');
          return a?.resetsAt === new Date(resetsAt * 1000).toISOString() ? a : undefined;
        },
        { what: "alpha's weekly reset in the ledger" },
      );
      expect(weekly).toMatchObject({ exhausted: true, kind: 'seven_day', resetGuessed: false });
      // The return waits for that reset.
      const returns = (await daemon.status()).scheduled.filter((j) => j.kind === 'return');
      expect(returns.length).toBe(1);
      expect(new Date(returns[0]?.at ?? 0).getTime()).toBeGreaterThanOrEqual(resetsAt * 1000);
    });
  });

  it('(c) the limit on the request that carries a tool_result: the conversation continues on beta after the tool call', async () => {
    await scenario({ claude: mainClaude(), accounts: ['alpha', 'beta'], dedicated: ['web'] }, async (sandbox) => {
      const { daemon, standIn, config } = sandbox;
      await waitForIdle(sandbox, ['web']);
      const id = sandbox.sessionIdOf('web');
      const resetsAt = nowSeconds() + 3600;
      // Alpha answers the task with a tool call; the CLI runs it and sends its result: that request hits the limit.
      standIn.script(alpha, {
        rules: [
          { match: (r) => r.hasTools && r.lastUserHasToolResult, reply: { kind: 'limit', claim: 'five_hour', resetsAt, delayMs: 500 } },
          { match: (r) => r.hasTools && includesPrompt(r, 'TASK-C'), reply: { kind: 'tool_use', name: 'Bash', input: { command: 'echo tool-ran', description: 'Print a marker' }, delayMs: 300 } },
        ],
      });
      expect(await daemon.pool.sendPrompt('web', 'TASK-C: run the marker command')).toBe(true);
      const toolResult = await waitForTurn(sandbox, 'the tool_result on alpha', (r) => r.token === alpha && r.lastUserHasToolResult);
      expect(toolResult.sessionId).toBe(id);

      await waitFor(() => sandbox.doneSwaps().length >= 1, { timeoutMs: 60_000, what: 'the swap alpha → beta' });
      expect(toolResult.status).toBe(429);
      expect(sandbox.doneSwaps()[0]).toMatchObject({ from: 'alpha', to: 'beta' });
      const continued = await waitForTurn(sandbox, "the continuation with beta's token", (r) => r.token === beta && r.sessionId === id && includesPrompt(r, config.claude.resumePrompt));
      // The same conversation: the task, and the tool call's result, are in its history.
      expect.soft(timesInPrompt(continued, config.claude.resumePrompt), 'the continuation typed once').toBe(1);
      expect(continued.userTexts.some((t) => t.includes('TASK-C'))).toBe(true);
      expect(continued.toolResults).toBeGreaterThanOrEqual(1);
      expect(sandbox.sessionIdOf('web')).toBe(id);
    });
  });
});
