import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait-for.js';
import { includesPrompt, mainClaude, nowSeconds, tokenOf, waitForIdle } from './helpers.js';
import { scenario } from './scenario.js';

/**
 * The task queue with the real CLI: three tasks for one dedicated session, alpha's 5-hour
 * limit hit during the second. Every task ends done, each prompt reached the API once as a
 * task (the second is carried on by the swap's continuation, on beta), in order.
 */
describe('(i) three queued tasks, a limit during the second', () => {
  it(`with Claude Code ${process.env.CLAUDE_FAILOVER_REAL_CLAUDE_VERSION ?? '(main)'}`, async () => {
    await scenario({ claude: mainClaude(), accounts: ['alpha', 'beta'], dedicated: ['web'], monitor: { returnMarginMs: 600_000 } }, async (sandbox) => {
      const { daemon, standIn } = sandbox;
      const alpha = tokenOf('alpha');
      const beta = tokenOf('beta');
      await waitForIdle(sandbox, ['web']);
      standIn.addRule(alpha, { match: (r) => r.hasTools && includesPrompt(r, 'TASK-2'), reply: { kind: 'limit', claim: 'five_hour', resetsAt: nowSeconds() + 3600, delayMs: 1500 } });
      const prompts = ['TASK-1: list the files', 'TASK-2: refactor the parser', 'TASK-3: write the changelog'];
      const ids: number[] = [];
      for (const prompt of prompts) ids.push((await daemon.store.tasks.add({ prompt, target: 'web' })).id);

      const tasks = await waitFor(
        async () => {
          await daemon.tick();
          const all = await Promise.all(ids.map((id) => daemon.store.tasks.get(id)));
          return all.every((t) => t?.state === 'done' || t?.state === 'failed') && all;
        },
        { timeoutMs: 120_000, intervalMs: 250, what: 'the three tasks ended' },
      );
      expect(tasks.map((t) => t?.state)).toEqual(['done', 'done', 'done']);
      expect(tasks.map((t) => t?.attempts)).toEqual([1, 1, 1]);
      expect(sandbox.doneSwaps()[0]).toMatchObject({ from: 'alpha', to: 'beta' });
      // Each task's prompt was submitted once. (The continuation's request also carries TASK-2:
      // the CLI sends the unanswered prompt and the continuation as one user message.)
      const turns = sandbox.turns();
      const resume = daemon.config.claude.resumePrompt;
      for (const prompt of prompts) {
        const carrying = turns.filter((r) => r.lastUserText.includes(prompt) && !r.lastUserText.includes(resume));
        expect(carrying.length, `requests whose last prompt is "${prompt}"`).toBe(1);
      }
      // TASK-1 on alpha; TASK-2 hit the limit on alpha and was finished on beta by the continuation; TASK-3 on beta.
      expect(turns.find((r) => r.lastUserText.includes('TASK-1'))?.token).toBe(alpha);
      expect(turns.find((r) => r.lastUserText.includes('TASK-2'))).toMatchObject({ token: alpha, status: 429 });
      expect(turns.find((r) => r.lastUserText.includes('TASK-3'))?.token).toBe(beta);
      expect(turns.filter((r) => r.token === beta && r.sessionId === tasks[1]?.sessionId && includesPrompt(r, resume))).toHaveLength(1);
      for (const t of tasks) expect(t?.result ?? '').not.toBe('');
    });
  });
});
