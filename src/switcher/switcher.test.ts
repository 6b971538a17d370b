import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Account } from '../config/types.js';
import { silentLogger } from '../log.js';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { createNotifier, type Notifier } from '../notify/notifier.js';
import type { AccountLayout } from '../accounts/account-layout.js';
import type { Pool } from '../pool/pool.js';
import type { RelaunchOutcome, SessionSnapshot } from '../pool/swap-types.js';
import { makeLayout, type TestLayout } from '../../test/helpers/account-layout.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { startTelegramStandIn, type TelegramStandIn } from '../../test/helpers/telegram-stand-in.js';
import { Switcher } from './switcher.js';
import type { SpreadChoose } from '../store/shared-store.js';
import { PARTIAL_SWAP_FLAG, RETRY_JOB, RETURN_JOB, type SwitchRequest } from './types.js';

const MINUTE = 60_000;
const COOLDOWN_MS = 10 * MINUTE;
const RETURN_MARGIN_MS = 2 * MINUTE;
const FALLBACK_RESET_MS = 5 * 60 * MINUTE;

/** The pool seam: only what the switcher calls, on one session that is not working. */
function fakePool() {
  const session: SessionSnapshot = { name: 'auto-1', paneId: '%1', sessionId: 'conv-1', cwd: '/p', account: 'A', working: false };
  const calls: string[] = [];
  /** Sessions whose continuation Claude Code never confirms. */
  const unconfirmed = new Set<string>();
  const pool = {
    exclusive: <T>(task: () => Promise<T>): Promise<T> => task(),
    snapshot: () => Promise.resolve([session]),
    stopAll: (snapshot: readonly SessionSnapshot[]) => {
      calls.push(`stop ${snapshot.map((s) => s.name).join(',')}`);
      return Promise.resolve(new Map(snapshot.map((s) => [s.name, 'idle' as const])));
    },
    continuationsNeeded: () => Promise.resolve(new Set<string>()),
    relaunchAll: (snapshot: readonly SessionSnapshot[], account: Account): Promise<RelaunchOutcome[]> => {
      calls.push(`relaunch on ${account.name}`);
      return Promise.resolve(snapshot.map((s) => ({ name: s.name, sessionId: s.sessionId, resumed: true, prompted: false, continuation: 'not-needed', ok: true, error: null })));
    },
    continueSession: (name: string) => {
      calls.push(`continue ${name}`);
      return Promise.resolve(!unconfirmed.has(name));
    },
  } satisfies Pick<Pool, 'exclusive' | 'snapshot' | 'stopAll' | 'continuationsNeeded' | 'relaunchAll' | 'continueSession'>;
  return { pool, calls, unconfirmed };
}

/** The layout seam: a link that is only a name, flipped in memory. */
function fakeLayout(linked: string) {
  const flips: string[] = [];
  const layout: AccountLayout = {
    linkedAccount: () => Promise.resolve(linked),
    flipLink: (account) => {
      flips.push(account.name);
      linked = account.name;
      return Promise.resolve();
    },
    prepareTarget: () => Promise.resolve(),
  };
  return { layout, flips };
}

describe('Switcher: how each request is answered (a real store, fakes for the pool and the layout)', () => {
  let dir: string;
  let layout: TestLayout;
  let store: Store;
  let telegram: TelegramStandIn;
  let notifier: Notifier;
  let clock: Date;
  let pool: ReturnType<typeof fakePool>;
  let links: ReturnType<typeof fakeLayout>;
  let switcher: Switcher;

  beforeEach(async () => {
    dir = await makeTempDir('cf-switcher');
    telegram = await startTelegramStandIn();
    layout = await makeLayout(dir, {
      accounts: { A: '.claude-A', B: '.claude-B', C: '.claude-C' },
      overrides: {
        monitor: { cooldownMs: COOLDOWN_MS, returnMarginMs: RETURN_MARGIN_MS, fallbackResetMs: FALLBACK_RESET_MS },
        notify: { telegram: { botToken: '123456:TEST-TOKEN', chatId: '42', apiBase: telegram.url } },
      },
    });
    clock = new Date('2026-03-02T12:00:00Z');
    const now = () => clock;
    store = openStore(layout.config.stateDir, { now });
    store.setActiveAccount('A');
    // No dedupe (a window of -1 ms forgets even an event of the same millisecond): one notification is the switcher's doing.
    notifier = createNotifier({ notify: layout.config.notify, logger: silentLogger(), dedupeWindowMs: -1 });
    pool = fakePool();
    links = fakeLayout('A');
    // The switcher calls only the methods fakePool has.
    switcher = new Switcher({ config: layout.config, store, pool: pool.pool as unknown as Pool, layout: links.layout, notifier, logger: silentLogger(), now });
  });

  afterEach(async () => {
    await switcher.idle();
    store.close();
    await telegram.close();
    await removeTempDir(dir);
  });

  const at = (ms: number) => new Date(clock.getTime() + ms);
  const exhaust = (account: string, resetsAt: Date | null) => {
    store.markExhausted(account, { kind: 'five_hour', resetsAt, resetGuessed: false, source: 'hook:epoch', detectedAt: clock });
  };
  const request = (req: SwitchRequest) => switcher.request(req);
  const telegramTexts = async () => {
    await notifier.flush(5000);
    return telegram.messages.map((m) => String(m.body.text));
  };
  /** Nothing moved: no flip, no session touched, no swap recorded, still on `active`. */
  const nothingMoved = (active: string) => {
    expect(links.flips).toEqual([]);
    expect(pool.calls).toEqual([]);
    expect(store.listSwaps(10).filter((s) => s.result !== 'no-target')).toEqual([]);
    expect(store.getActiveAccount()).toBe(active);
  };

  it('moves the pool at a limit on the active account (the fakes carry a whole swap)', async () => {
    exhaust('A', at(60 * MINUTE));
    expect(await request({ trigger: 'limit', account: 'A' })).toMatchObject({ result: 'done', from: 'A', to: 'B', sessions: [{ name: 'auto-1', sessionId: 'conv-1', ok: true }] });
    expect(links.flips).toEqual(['B']);
    expect(pool.calls).toEqual(['stop auto-1', 'relaunch on B']);
    expect(store.getActiveAccount()).toBe('B');
    expect(store.listSwaps(10)).toEqual([expect.objectContaining({ from: 'A', to: 'B', result: 'done', trigger: 'limit' })]);
    expect(store.unfinishedJournal()).toBeNull();
    expect(store.listJobs().find((j) => j.key === RETURN_JOB)?.runAt).toEqual(at(60 * MINUTE + RETURN_MARGIN_MS));
  });

  it('skips a limit on an account the pool is not on: the ledger alone knows of it', async () => {
    exhaust('C', at(60 * MINUTE));
    const outcome = await request({ trigger: 'limit', account: 'C' });
    expect(outcome).toMatchObject({ result: 'skipped', reason: expect.stringContaining('C is not the active account (A)') as unknown });
    nothingMoved('A');
    expect(store.listJobs()).toEqual([]);
  });

  it('defers a limit during the cooldown after the last swap and schedules the retry at its end', async () => {
    const lastSwap = at(-3 * MINUTE);
    store.addSwap({ from: 'B', to: 'A', at: lastSwap, result: 'done', reason: null, trigger: 'manual' });
    exhaust('A', at(60 * MINUTE));
    const until = new Date(lastSwap.getTime() + COOLDOWN_MS);
    expect(await request({ trigger: 'limit', account: 'A' })).toEqual({ result: 'deferred', until, reason: 'cooldown after the last swap' });
    expect(store.listJobs()).toEqual([expect.objectContaining({ key: RETRY_JOB, kind: 'retry', runAt: until })]);
    expect(links.flips).toEqual([]);
    expect(store.getActiveAccount()).toBe('A');
    // Once the cooldown is over, the same request moves the pool.
    clock = at(COOLDOWN_MS);
    expect(await request({ trigger: 'limit', account: 'A' })).toMatchObject({ result: 'done', to: 'B' });
  });

  it('with no account to go to: one no-target record, one notification, a retry at the earliest reset — however often the limit is reported', async () => {
    exhaust('A', at(90 * MINUTE));
    exhaust('B', at(30 * MINUTE));
    exhaust('C', at(45 * MINUTE));
    for (let i = 0; i < 3; i++) expect(await request({ trigger: 'limit', account: 'A' })).toEqual({ result: 'no-target', retryAt: at(30 * MINUTE) });
    nothingMoved('A');
    expect(store.listSwaps(10)).toEqual([expect.objectContaining({ from: 'A', to: null, result: 'no-target', trigger: 'limit' })]);
    expect(store.listJobs()).toEqual([expect.objectContaining({ key: RETRY_JOB, runAt: at(30 * MINUTE) })]);
    const texts = await telegramTexts();
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain(`Every account is exhausted; the pool stays on A. Next try at ${at(30 * MINUTE).toISOString()}`);
  });

  it('retries at the fallback when no exhausted account knows its reset', async () => {
    for (const name of ['A', 'B', 'C']) exhaust(name, null);
    expect(await request({ trigger: 'limit', account: 'A' })).toEqual({ result: 'no-target', retryAt: at(FALLBACK_RESET_MS) });
    expect(store.listJobs().find((j) => j.key === RETRY_JOB)?.runAt).toEqual(at(FALLBACK_RESET_MS));
  });

  it('skips a manual switch to the account already active', async () => {
    expect(await request({ trigger: 'manual', target: 'A' })).toEqual({ result: 'skipped', reason: 'already on A' });
    nothingMoved('A');
  });

  it('defers a return to the preferred account until its reset plus the margin', async () => {
    store.setActiveAccount('B');
    exhaust('A', at(40 * MINUTE));
    const until = at(40 * MINUTE + RETURN_MARGIN_MS);
    expect(await request({ trigger: 'return' })).toEqual({ result: 'deferred', until, reason: 'A has not reset yet' });
    expect(store.listJobs()).toEqual([expect.objectContaining({ key: RETURN_JOB, kind: 'return', runAt: until })]);
    nothingMoved('B');
    // After its reset the same request goes back.
    clock = until;
    expect(await request({ trigger: 'return' })).toMatchObject({ result: 'done', from: 'B', to: 'A' });
  });

  it('refuses every request while a partial swap is flagged, and touches nothing', async () => {
    store.setFlag(PARTIAL_SWAP_FLAG, 'the link could not be flipped back');
    exhaust('A', at(60 * MINUTE));
    const requests: SwitchRequest[] = [
      { trigger: 'limit', account: 'A' },
      { trigger: 'manual', target: 'B' },
      { trigger: 'manual', target: null },
      { trigger: 'return' },
      { trigger: 'retry' },
      { trigger: 'proactive', account: 'A' },
    ];
    for (const req of requests) {
      expect(await request(req)).toEqual({ result: 'refused', reason: expect.stringContaining('a partial swap needs repair first (the link could not be flipped back)') as unknown });
    }
    nothingMoved('A');
    expect(store.listJobs()).toEqual([]);
    expect(await telegramTexts()).toEqual([]);
  });

  it('with fleet.spread, decides inside the fleet\'s choice (one host at a time) and names the account it moves to; a request that moves nothing names none', async () => {
    const spread = new Switcher({
      config: { ...layout.config, fleet: { ...layout.config.fleet, spread: true } },
      store, pool: pool.pool as unknown as Pool, layout: links.layout, notifier, logger: silentLogger(), now: () => clock,
      // Another host is on B already: the choice goes to C, the account with no other host on it.
      spreadChoice: <T>(choose: SpreadChoose<T>) => {
        const choice = choose(new Map([['B', 1]]));
        reserved.push(choice.account);
        return Promise.resolve(choice.result);
      },
    });
    const reserved: (string | null)[] = [];
    exhaust('A', at(60 * MINUTE));
    expect(await spread.request({ trigger: 'limit', account: 'A' })).toMatchObject({ result: 'done', from: 'A', to: 'C' });
    expect(links.flips).toEqual(['C']);
    expect(await spread.request({ trigger: 'manual', target: 'C' })).toMatchObject({ result: 'skipped' });
    expect(reserved).toEqual(['C', null]);
    await spread.idle();
  });

  it('on a retry that finds the active account reset first, continues its blocked sessions where they are, and says which continuation never landed', async () => {
    exhaust('A', at(-MINUTE));
    exhaust('B', at(60 * MINUTE));
    exhaust('C', at(60 * MINUTE));
    store.upsertSession({ name: 'auto-1', state: 'limited', account: 'A' });
    pool.unconfirmed.add('auto-1');
    const outcome = await request({ trigger: 'retry' });
    expect(outcome).toEqual({ result: 'skipped', reason: 'A has reset; 0/1 blocked session(s) continued on it; NOT CONTINUED: auto-1' });
    expect(pool.calls).toEqual(['continue auto-1']);
    expect(links.flips).toEqual([]);
    expect(await telegramTexts()).toEqual(['A has reset, but the continuation prompt never reached auto-1: it sits idle on A. Attach and continue by hand.']);
  });
});
