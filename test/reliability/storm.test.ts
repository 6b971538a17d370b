import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import type { SwapStep, SwitchOutcome, SwitchRequest } from '../../src/switcher/types.js';
import { tmux, transcripts, userPrompts, waitForIdlePool } from '../helpers/e2e.js';
import { useE2e } from '../helpers/e2e-fixture.js';
import { waitFor } from '../helpers/wait-for.js';
import { FIGURES_FILE, recordFigure } from './figures.js';
import { seededRandom } from './seeded-random.js';

const TEST = 'test/reliability/storm.test.ts';
const SESSIONS = Number(process.env.CF_STORM_SESSIONS ?? '50');

interface LimitRecord {
  readonly timestamp?: string;
  readonly error?: string;
}

/**
 * Storms: many signals for one limit must make one swap, one notification and one
 * continuation per conversation; several requests arriving together are served one at a
 * time, and the pool ends where the last one asked.
 */
describe('reliability: storms (fake Claude Code)', () => {
  const e2e = useE2e('cf-storm', { telegram: true });

  it(`${String(SESSIONS)} working sessions hit the limit within a second: one swap, one notification, each conversation continued once`, async () => {
    const started = Date.now();
    const sandbox = await e2e.sandbox({
      accounts: [
        // Each turn of the tasks takes 400 ms on A: every session is mid-task when A runs out.
        { name: 'A', quota: { limit: 100000, turnMs: 400 } },
        { name: 'B', quota: { limit: 100000, turnMs: 100 } },
      ],
      autonomous: { min: SESSIONS, max: SESSIONS },
      monitor: { returnMarginMs: 3_600_000 },
    });
    const names = Array.from({ length: SESSIONS }, (_, i) => `auto-${String(i + 1)}`);
    const log = join(dirname(FIGURES_FILE), 'storm.daemon.log');
    mkdirSync(dirname(log), { recursive: true });
    const d = await e2e.startDaemon(sandbox, { logger: createLogger({ pretty: false, level: 'info', destination: createWriteStream(log) }) });
    await waitForIdlePool(d, names, 240_000);
    const ids = Object.fromEntries(names.map((n) => [n, d.store.getSession(n)?.sessionId ?? '']));
    const prompt = sandbox.config.claude.resumePrompt;

    // Every session starts a task of 40 turns; once all of them work, A runs out for every next turn.
    for (const name of names) tmux(e2e.socket, 'send-keys', '-t', `=${name}:`, '-l', `Storm task of ${name} [turns=40]`);
    await waitFor(() => names.every((n) => tmux(e2e.socket, 'capture-pane', '-p', '-t', `=${n}:`).includes(`Storm task of ${n}`)), { timeoutMs: 60_000, what: 'every task typed' });
    for (const name of names) tmux(e2e.socket, 'send-keys', '-t', `=${name}:`, 'Enter');
    await waitFor(() => names.every((n) => userPrompts(transcripts(sandbox).get(ids[n] ?? '') ?? []).length === 1), { timeoutMs: 60_000, what: 'every task under way on A' });
    const limitSetAt = Date.now();
    await sandbox.setQuota('A', { limit: 0, resetsAt: Math.floor(Date.now() / 1000) + 3600 });

    await waitFor(() => e2e.doneSwaps().length >= 1, { timeoutMs: 120_000, what: 'the swap to B' }).catch((err: unknown) => {
      // What the daemon did instead: its answers, its warnings, where each session stands.
      const states = names.map((n) => `${n}:${d.store.getSession(n)?.state ?? '?'}@${d.store.getSession(n)?.account ?? '?'}`).join(' ');
      const warnings = readFileSync(log, 'utf8').split('\n').filter((l) => /"level":(40|50|60)/.test(l)).slice(-30).join('\n');
      process.stderr.write(`\nno swap done; outcomes ${JSON.stringify(e2e.outcomes)}\nsessions ${states}\nlast warnings:\n${warnings}\nthe daemon's log: ${log}\n`);
      throw err;
    });
    const swapDoneAt = Date.now();
    // Every conversation answers its continuation on B.
    const answered = (n: string) => {
      const lines = transcripts(sandbox).get(ids[n] ?? '') ?? [];
      return userPrompts(lines).at(-1) === prompt && (lines.at(-1) ?? '').includes('done.');
    };
    const settled = await waitFor(() => names.every(answered), { timeoutMs: 180_000, what: 'every conversation continued and answered on B' })
      .then(() => waitForIdlePool(d, names, 120_000))
      .then(() => true, () => false);
    if (!settled) {
      const stuck = names.filter((n) => !answered(n));
      process.stderr.write(`\nnot continued and answered: ${stuck.join(', ')}\n${JSON.stringify(e2e.doneSwaps()[0]?.sessions.filter((o) => stuck.includes(o.name)))}\n`);
      for (const n of stuck.slice(0, 3)) process.stderr.write(`--- ${n}: ${(transcripts(sandbox).get(ids[n] ?? '') ?? []).slice(-4).join('\n')}\n${tmux(e2e.socket, 'capture-pane', '-p', '-t', `=${n}:`)}\n`);
      process.stderr.write(`the daemon's log: ${log}\n`);
    }

    const limitTimes = names.flatMap((n) => (transcripts(sandbox).get(ids[n] ?? '') ?? []).map((l) => JSON.parse(l) as LimitRecord).filter((r) => r.error === 'rate_limit').map((r) => Date.parse(r.timestamp ?? '')));
    const spreadMs = Math.max(...limitTimes) - Math.min(...limitTimes);
    const inFirstSecond = limitTimes.filter((t) => t - Math.min(...limitTimes) <= 1000).length;
    const continuations = names.map((n) => userPrompts(transcripts(sandbox).get(ids[n] ?? '') ?? []).filter((p) => p === prompt).length);
    const swapTexts = e2e.telegramTexts().filter((t) => /Swapped accounts|Returned to|NOT CONTINUED|continuation prompt never|Every account is exhausted|cancelled/.test(t));
    const swap = e2e.doneSwaps()[0];
    const checks: Record<string, boolean> = {
      settled,
      // Every session met the limit (how close together is a figure: the fake's quota file is one lock).
      everyOneLimited: limitTimes.length === SESSIONS,
      oneSwap: e2e.doneSwaps().length === 1 && e2e.outcomes.filter((o) => o.result !== 'skipped' && o.result !== 'deferred').length === 1,
      oneNotification: swapTexts.length === 1 && (swapTexts[0] ?? '').includes('Swapped accounts: A → B'),
      continuedOnce: continuations.every((c) => c === 1),
      allDelivered: swap?.sessions.filter((s) => s.ok && s.continuation === 'delivered').length === SESSIONS,
      idsKept: names.every((n) => d.store.getSession(n)?.sessionId === ids[n] && d.store.getSession(n)?.account === 'B'),
    };
    // A restart adopts the running pool as it is: the same panes, conversations and launches.
    const panes = Object.fromEntries(names.map((n) => [n, d.store.getSession(n)]));
    await d.stop();
    const restartAt = Date.now();
    const again = await e2e.startDaemon(sandbox, { logger: createLogger({ pretty: false, level: 'info', destination: createWriteStream(log, { flags: 'a' }) }) });
    await waitForIdlePool(again, names, 120_000);
    const adoptedMs = Date.now() - restartAt;
    const adopted = names.filter((n) => {
      const now = again.store.getSession(n);
      const was = panes[n];
      return now?.paneId === was?.paneId && now?.sessionId === was?.sessionId && now?.restarts === was?.restarts && now?.account === 'B';
    }).length;
    checks.adoptedAfterRestart = adopted === SESSIONS;
    recordFigure({
      probe: `a restart adopts ${String(SESSIONS)} running sessions, fake Claude Code`,
      test: TEST,
      runs: 1,
      passes: adopted === SESSIONS ? 1 : 0,
      measured: { sessions: SESSIONS, adopted, relaunched: SESSIONS - adopted, startToIdleMs: adoptedMs },
    });
    recordFigure({
      probe: `${String(SESSIONS)} sessions hit the limit within one second, fake Claude Code`,
      test: TEST,
      runs: 1,
      passes: Object.entries(checks).every(([name, ok]) => ok || name === 'adoptedAfterRestart') ? 1 : 0,
      measured: {
        sessions: SESSIONS,
        limitSpreadMs: spreadMs,
        limitsInFirstSecond: inFirstSecond,
        limitSignals: limitTimes.length,
        swaps: e2e.doneSwaps().length,
        requestsAnswered: e2e.outcomes.length,
        swapNotifications: swapTexts.length,
        continuationsDelivered: swap?.sessions.filter((s) => s.continuation === 'delivered').length ?? 0,
        continuationsMax: Math.max(...continuations),
        limitToSwapDoneMs: swapDoneAt - limitSetAt,
        wallS: Math.round((Date.now() - started) / 1000),
      },
    });
    expect(checks).toEqual({ adoptedAfterRestart: true, settled: true, everyOneLimited: true, oneSwap: true, oneNotification: true, continuedOnce: true, allDelivered: true, idsKept: true });
  });

  it('a limit, a manual switch and a scheduled return arriving together, in every order: served one at a time, the pool ends where the last one asked', async () => {
    const started = Date.now();
    const random = seededRandom('storm of requests');
    const sandbox = await e2e.sandbox({
      accounts: [
        { name: 'A', quota: { limit: 100000, turnMs: 100 } },
        { name: 'B', quota: { limit: 100000, turnMs: 100 } },
        { name: 'C', quota: { limit: 100000, turnMs: 100 } },
      ],
      dedicated: ['web'],
      monitor: { returnMarginMs: 3_600_000 },
    });
    const steps: { journal: number; step: SwapStep }[] = [];
    const d = await e2e.startDaemon(sandbox, { onStep: (step, journal) => { steps.push({ journal, step }); } });
    await waitForIdlePool(d, ['web']);
    type Kind = 'limit' | 'manual' | 'return';
    const orders: Kind[][] = [['limit', 'manual', 'return'], ['limit', 'return', 'manual'], ['manual', 'limit', 'return'], ['manual', 'return', 'limit'], ['return', 'limit', 'manual'], ['return', 'manual', 'limit']];
    // The orders in a seeded shuffle: the state one leaves is the next one's start.
    for (let i = orders.length - 1; i > 0; i--) {
      const j = random.between(0, i);
      [orders[i], orders[j]] = [orders[j] ?? [], orders[i] ?? []];
    }
    const problems: string[] = [];
    for (const order of orders) {
      // Start on B with nothing exhausted: B is where the limit will be.
      for (const account of ['A', 'B', 'C']) d.store.clearExhausted(account);
      if (d.store.getActiveAccount() !== 'B') await d.requestSwitch({ trigger: 'manual', target: 'B' });
      await waitForIdlePool(d, ['web']);
      const before = e2e.outcomes.length;
      const stepsBefore = steps.length;
      const now = new Date();
      // All three in the same turn of the event loop.
      for (const kind of order) {
        if (kind === 'limit') d.monitor.handleLimit({ account: 'B', kind: 'five_hour', resetsAt: new Date(now.getTime() + 3_600_000), precision: 'epoch', source: 'hook', detectedAt: now, session: 'web', text: "You've hit your 5-hour limit" });
        else void d.requestSwitch(kind === 'manual' ? { trigger: 'manual', target: 'C', reason: 'manual switch' } : ({ trigger: 'return', reason: 'scheduled return' } satisfies SwitchRequest));
      }
      await waitFor(() => e2e.outcomes.length >= before + 3, { timeoutMs: 60_000, what: `the three requests of ${order.join(', ')} answered` });
      await d.switcher.idle();
      const served = e2e.outcomes.slice(before, before + 3);
      const expected = modelOf(order);
      const journals = steps.slice(stepsBefore).map((s) => s.journal);
      const interleaved = journals.some((j, k) => k > 0 && j !== journals[k - 1] && journals.slice(0, k).includes(j));
      const active = d.store.getActiveAccount();
      const last = order.at(-1);
      const lastSatisfied = last === 'manual' ? active === 'C' : last === 'return' ? active === 'A' : active !== 'B';
      const got = served.map(outcomeOf).join(' ');
      if (got !== expected.outcomes.join(' ') || active !== expected.end || interleaved || !lastSatisfied) {
        problems.push(`${order.join(', ')} (seed ${String(random.seed)}): served ${got}, expected ${expected.outcomes.join(' ')}; ended on ${active ?? 'none'} (expected ${expected.end}); interleaved ${String(interleaved)}`);
      }
    }
    recordFigure({
      probe: 'A limit, a manual switch and a scheduled return together, fake Claude Code',
      test: TEST,
      runs: orders.length,
      passes: orders.length - problems.length,
      measured: { seed: random.seed, orders: orders.map((o) => o.join('>')).join(' '), wallS: Math.round((Date.now() - started) / 1000) },
    });
    expect(problems).toEqual([]);
  });
});

/** What serving the requests one at a time in `order` gives, from B with A, B, C available (A preferred). */
function modelOf(order: readonly ('limit' | 'manual' | 'return')[]): { outcomes: string[]; end: string } {
  let active = 'B';
  const outcomes: string[] = [];
  for (const kind of order) {
    const to = kind === 'limit' ? (active === 'B' ? 'A' : null) : kind === 'manual' ? (active === 'C' ? null : 'C') : active === 'A' ? null : 'A';
    outcomes.push(to ? `done:${active}>${to}` : 'skipped');
    if (to) active = to;
  }
  return { outcomes, end: active };
}

function outcomeOf(outcome: SwitchOutcome): string {
  return outcome.result === 'done' ? `done:${outcome.from ?? ''}>${outcome.to}` : outcome.result;
}
