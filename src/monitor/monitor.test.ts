import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/sqlite-store.js';
import type { Store } from '../store/store.js';
import { createTmuxClient, type TmuxClient } from '../tmux/client.js';
import { killPrivateServer, privateSocketName } from '../../test/helpers/private-tmux.js';
import { silentLogger } from '../log.js';
import { configFromObject } from '../config/load.js';
import type { Config } from '../config/types.js';
import { makeTempDir, removeTempDir } from '../../test/helpers/temp-dir.js';
import { waitFor } from '../../test/helpers/wait-for.js';
import { Monitor } from './monitor.js';
import { SessionStates } from '../sessions/session-states.js';
import { shellQuote } from '../claude/shell-quote.js';
import type { LimitEvent } from './limit-event.js';

let dir: string;
let store: Store;
let config: Config;
let now: Date;
let limits: LimitEvent[];
let near: [string, number][];

function monitor(): Monitor {
  return new Monitor({
    config,
    store,
    tmux: createTmuxClient({ socket: 'cf-unused' }),
    logger: silentLogger(),
    now: () => now,
    activeAccount: () => config.accounts[0] ?? null,
    onLimit: (e) => limits.push(e),
    onNearLimit: (account, percent) => near.push([account, percent]),
  });
}

beforeEach(async () => {
  dir = await makeTempDir('cf-monitor');
  store = openStore(dir);
  const result = configFromObject({ home: dir, accounts: [{ name: 'work', home: `${dir}/.claude-work` }, { name: 'spare', home: `${dir}/.claude-spare` }], monitor: { proactivePercent: 98 } }, { baseDir: dir });
  if (!result.ok) throw new Error(result.report);
  config = result.config;
  now = new Date('2026-11-24T20:00:00Z');
  limits = [];
  near = [];
  const states = new SessionStates(store, () => now);
  for (let i = 1; i <= 10; i++) {
    states.launched(`s${i}`, { paneId: `%${i}`, account: 'work', cwd: dir, sessionId: `id-${i}`, keepLastError: false });
    states.promptSubmitted(`s${i}`);
  }
});
afterEach(async () => {
  store.close();
  await removeTempDir(dir);
});

describe('Monitor', () => {
  it('turns ten sessions reporting one limit into one event, and records the most precise reset', async () => {
    const m = monitor();
    // Every hook is handled to the end (its transcript read) before anything is asserted.
    await Promise.all(Array.from({ length: 10 }, (_, i) => m.handleHook({ event: 'StopFailure', pane: `%${i + 1}`, payload: { session_id: `id-${i + 1}`, error: 'rate_limit' } })));
    expect(limits).toHaveLength(1);
    expect(limits[0]).toMatchObject({ account: 'work', source: 'hook', precision: 'guess' });
    expect(m.counts).toEqual({ events: 1, duplicates: 9 });
    // The hook carries no reset: the transcript's epoch arrives after and refines the ledger.
    for (let i = 1; i <= 10; i++) {
      m.handleTranscript({ type: 'limit', sessionId: `id-${i}`, cwd: null, timestamp: now, kind: 'five_hour', resetsAt: new Date('2026-11-24T21:51:00Z'), text: 'banner', file: `/x/id-${i}.jsonl` });
    }
    expect(limits).toHaveLength(1);
    expect(store.getLedgerEntry('work')).toMatchObject({ exhausted: true, kind: 'five_hour', resetsAt: new Date('2026-11-24T21:51:00Z'), resetGuessed: false, source: 'transcript:epoch' });
    expect(store.getSession('s3')?.state).toBe('limited');
  });

  it('blames a limit record read late, after the relaunch, on the account it was written under', () => {
    const m = monitor();
    const sessions = m.sessions;
    // s1 ran on work, hit the limit (record written), then was relaunched on spare before the record was read.
    sessions.launched('s1', { paneId: '%1', account: 'work', cwd: dir, sessionId: 'id-1', keepLastError: false });
    now = new Date(now.getTime() + 1000);
    sessions.launched('s1', { paneId: '%1', account: 'spare', cwd: dir, sessionId: 'id-1', keepLastError: false });
    m.handleTranscript({ type: 'limit', sessionId: 'id-1', cwd: null, timestamp: new Date(now.getTime() - 500), kind: 'five_hour', resetsAt: new Date(now.getTime() + 3600_000), text: 'banner', file: '/shared/projects/x/id-1.jsonl' });
    expect(limits).toHaveLength(1);
    expect(limits[0]?.account).toBe('work');
    expect(store.getLedgerEntry('spare')?.exhausted ?? false).toBe(false);
    // The old record does not make the new launch limited either.
    expect(store.getSession('s1')?.state).toBe('starting');
  });

  it('falls back to a guessed reset when a limit record carries an impossible one (1e20)', () => {
    const m = monitor();
    m.handleTranscript({ type: 'limit', sessionId: 'id-2', cwd: null, timestamp: now, kind: 'five_hour', resetsAt: new Date(1e20 * 1000), text: 'banner', file: '/x/id-2.jsonl' });
    expect(limits).toHaveLength(1);
    const entry = store.getLedgerEntry('work');
    expect(entry).toMatchObject({ exhausted: true, resetGuessed: true });
    expect(entry?.resetsAt?.getTime()).toBe(now.getTime() + config.monitor.fallbackResetMs);
    expect(() => entry?.resetsAt?.toISOString()).not.toThrow();
  });

  it('keeps an epoch reset when a vaguer signal for the same limit comes later', () => {
    const m = monitor();
    m.handleLimit({ account: 'work', kind: 'five_hour', resetsAt: new Date('2026-11-24T21:51:00Z'), precision: 'epoch', source: 'transcript', detectedAt: now, session: 's1', text: null });
    m.handleLimit({ account: 'work', kind: 'unknown', resetsAt: null, precision: 'guess', source: 'screen', detectedAt: now, session: 's2', text: null });
    expect(limits).toHaveLength(1);
    expect(store.getLedgerEntry('work')?.resetsAt).toEqual(new Date('2026-11-24T21:51:00Z'));
    expect(m.counts).toEqual({ events: 1, duplicates: 1 });
  });

  it('guesses the reset of a limit seen now whose exact reset has already passed (an older limit\'s record), instead of taking it', () => {
    const m = monitor();
    m.handleLimit({ account: 'work', kind: 'five_hour', resetsAt: new Date(now.getTime() - 12_000), precision: 'epoch', source: 'hook', detectedAt: now, session: 's1', text: null });
    expect(limits).toHaveLength(1);
    const entry = store.getLedgerEntry('work');
    expect(entry?.resetGuessed).toBe(true);
    expect(entry?.resetsAt?.getTime()).toBeGreaterThan(now.getTime());
  });

  it('treats a limit whose reset has passed as new again', () => {
    const m = monitor();
    m.handleLimit({ account: 'work', kind: 'five_hour', resetsAt: new Date('2026-11-24T20:30:00Z'), precision: 'epoch', source: 'hook', detectedAt: now, session: null, text: null });
    now = new Date('2026-11-24T21:00:00Z');
    m.handleLimit({ account: 'work', kind: 'five_hour', resetsAt: new Date('2026-11-25T02:00:00Z'), precision: 'epoch', source: 'hook', detectedAt: now, session: null, text: null });
    expect(limits).toHaveLength(2);
  });

  it('does not take a banner still on screen after its exact reset passed for a new limit, but does take a later one', () => {
    const m = monitor();
    m.handleLimit({ account: 'work', kind: 'five_hour', resetsAt: new Date('2026-11-24T20:30:40Z'), precision: 'epoch', source: 'transcript', detectedAt: now, session: 's1', text: null });
    now = new Date('2026-11-24T20:30:45Z');
    // "resets 8:30pm" read off the screen a few seconds after the exact reset: the same, passed limit.
    m.handleLimit({ account: 'work', kind: 'five_hour', resetsAt: new Date('2026-11-24T20:30:00Z'), precision: 'text', source: 'screen', detectedAt: now, session: 's1', text: 'banner' });
    expect(limits).toHaveLength(1);
    expect(store.getLedgerEntry('work')?.resetsAt).toEqual(new Date('2026-11-24T20:30:40Z'));
    // A banner for another reset is a new limit.
    m.handleLimit({ account: 'work', kind: 'five_hour', resetsAt: new Date('2026-11-25T01:30:00Z'), precision: 'text', source: 'screen', detectedAt: now, session: 's1', text: 'banner' });
    expect(limits).toHaveLength(2);
  });

  it('does not take that banner for a new limit either once the account came back and its entry was cleared (a continuation not yet typed under it)', () => {
    const m = monitor();
    m.handleLimit({ account: 'work', kind: 'five_hour', resetsAt: new Date('2026-11-24T20:30:40Z'), precision: 'epoch', source: 'hook', detectedAt: now, session: 's1', text: null });
    now = new Date('2026-11-24T20:30:41Z');
    // The reset came with no other account to go to: the switcher clears the entry, then continues the session on it.
    store.clearExhausted('work');
    m.handleLimit({ account: 'work', kind: 'five_hour', resetsAt: new Date('2026-11-24T20:30:00Z'), precision: 'text', source: 'screen', detectedAt: now, session: 's1', text: 'banner' });
    expect(limits).toHaveLength(1);
    expect(store.getLedgerEntry('work')?.exhausted).toBe(false);
    // A new limit, hours later, is one.
    m.handleLimit({ account: 'work', kind: 'five_hour', resetsAt: new Date('2026-11-25T01:30:00Z'), precision: 'text', source: 'screen', detectedAt: now, session: 's1', text: 'banner' });
    expect(limits).toHaveLength(2);
  });

  it('attributes a limit in a session outside the pool to the account whose home holds its transcript', async () => {
    const m = monitor();
    await m.handleHook({ event: 'StopFailure', pane: '%99', payload: { session_id: 'x', error: 'rate_limit', transcript_path: `${dir}/.claude-spare/projects/-p/x.jsonl` } });
    expect(limits).toHaveLength(1);
    expect(limits.map((l) => l.account)).toEqual(['spare']);
    expect(store.getSession('s1')?.state).toBe('working');
  });

  it('records usage from the statusline and asks for a proactive switch once per window at the threshold', () => {
    const m = monitor();
    const payload = (p: number) => ({ rate_limits: { five_hour: { used_percentage: p, resets_at: 1795600000 }, seven_day: { used_percentage: 40, resets_at: 1796000000 } } });
    m.handleStatusline('%1', payload(90));
    expect(store.getLedgerEntry('work')?.usagePercent).toBe(90);
    expect(near).toEqual([]);
    m.handleStatusline('%1', payload(98.5));
    m.handleStatusline('%2', payload(99));
    expect(near).toEqual([['work', 98.5]]);
    expect(limits).toEqual([]);
  });

  it('never switches on a StopFailure that is not a usage limit', async () => {
    const m = monitor();
    await m.handleHook({ event: 'StopFailure', pane: '%1', payload: { session_id: 'id-1', error: 'authentication_failed' } });
    expect(limits).toEqual([]);
    expect(store.getSession('s1')?.lastError).toBe('StopFailure: authentication_failed');
  });

  it('leaves a session as it is on a StopFailure without its error (the relay read no JSON): it may be a limit', async () => {
    const m = monitor();
    await m.handleHook({ event: 'UserPromptSubmit', pane: '%1', payload: { session_id: 'id-1', prompt: 'work' } });
    expect(store.getSession('s1')?.state).toBe('working');
    await m.handleHook({ event: 'StopFailure', pane: '%1', payload: null });
    await m.handleHook({ event: 'StopFailure', pane: '%1', payload: { raw: 'not json' } });
    expect(store.getSession('s1')).toMatchObject({ state: 'working', lastError: null });
    expect(limits).toEqual([]);
  });

  it('reads every pool pane in one tmux call per poll, and finds the one at its limit', async () => {
    const socket = privateSocketName('cf-poll');
    const real = createTmuxClient({ socket });
    const calls: string[] = [];
    // The real client, counted: each method call is one tmux process.
    const counted = new Proxy(real, {
      get: (target, key: keyof TmuxClient): unknown => {
        const value: unknown = Reflect.get(target, key);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]): unknown => {
          calls.push(key);
          return Reflect.apply(value, target, args);
        };
      },
    });
    try {
      const panes = new Map<string, { paneId: string; dead: boolean }>();
      for (let i = 1; i <= 10; i++) {
        const text = i === 7 ? "  ⎿  You've hit your 5-hour limit · resets 9:51pm (UTC)" : '❯\u00a0';
        const { paneId } = await real.newSession({ name: `s${i}`, cwd: dir, command: `printf '%s\\n' ${shellQuote(text)}; exec cat` });
        new SessionStates(store, () => now).launched(`s${i}`, { paneId, account: 'work', cwd: dir, sessionId: `id-${i}`, keepLastError: false });
        panes.set(`s${i}`, { paneId, dead: false });
      }
      await waitFor(async () => (await real.capturePane(panes.get('s7')?.paneId ?? '', 5)).includes('resets 9:51pm'), { what: 'the banner on screen' });
      const m = new Monitor({
        config,
        store,
        tmux: counted,
        logger: silentLogger(),
        now: () => now,
        activeAccount: () => config.accounts[0] ?? null,
        onLimit: (e) => limits.push(e),
        onNearLimit: () => undefined,
      });
      await m.pollScreens(panes);
      // A banner on a screen that did no work since its launch is history, not news.
      expect(limits).toEqual([]);
      await m.handleHook({ event: 'UserPromptSubmit', pane: panes.get('s7')?.paneId ?? null, payload: { session_id: 'id-7', prompt: 'go' } });
      await m.pollScreens(panes);
      expect(calls).toEqual(['captureMany', 'captureMany']);
      expect(limits).toHaveLength(1);

      // With each window's last output time (as the daemon lists panes), a screen with no
      // output since it was read is not read again; one with new output is.
      const withActivity = async () => new Map((await real.listPanes()).map((p) => [p.sessionName, p]));
      const lastOutput = Math.max(...[...(await withActivity()).values()].map((p) => p.activity ?? 0));
      await waitFor(() => Math.floor(Date.now() / 1000) > lastOutput, { what: 'the next second' });
      // The first poll reads every screen; the second only s7 (a limit screen is always read again).
      const captured: string[][] = [];
      const recording = new Proxy(counted, {
        get: (target, key: keyof TmuxClient): unknown => (key === 'captureMany' ? (ids: string[], n: number) => { captured.push(ids); return target.captureMany(ids, n); } : Reflect.get(target, key)),
      });
      const m2 = new Monitor({ config, store, tmux: recording, logger: silentLogger(), now: () => now, activeAccount: () => config.accounts[0] ?? null, onLimit: () => undefined, onNearLimit: () => undefined });
      await m2.pollScreens(await withActivity());
      await m2.pollScreens(await withActivity());
      expect(captured[0]).toHaveLength(10);
      expect(captured[1]).toEqual([panes.get('s7')?.paneId]);
      await real.sendText(panes.get('s3')?.paneId ?? '', 'new output');
      await waitFor(async () => (await real.capturePane(panes.get('s3')?.paneId ?? '', 5)).includes('new output'), { what: 'cat echoing' });
      await m2.pollScreens(await withActivity());
      expect(captured[2]).toEqual(expect.arrayContaining([panes.get('s3')?.paneId, panes.get('s7')?.paneId]));
      expect(captured[2]).toHaveLength(2);
      // "resets 9:51pm" is cut to the minute: the account is sure to be back at the end of it.
      expect(limits[0]).toMatchObject({ account: 'work', source: 'screen', session: 's7', kind: 'five_hour', resetsAt: new Date('2026-11-24T21:52:00Z'), precision: 'text' });
    } finally {
      await killPrivateServer(socket);
    }
  });

  it('an idle pool costs a poll one pane listing: no screen read, no registry read, until the registry changes', async () => {
    const socket = privateSocketName('cf-poll-idle');
    const real = createTmuxClient({ socket });
    const captured: string[][] = [];
    const tmux = new Proxy(real, {
      get: (target, key: keyof TmuxClient): unknown => (key === 'captureMany' ? (ids: string[], n: number) => { captured.push(ids); return target.captureMany(ids, n); } : Reflect.get(target, key)),
    });
    let registryReads = 0;
    const counted = new Proxy(store, {
      get: (target, key: keyof Store): unknown => {
        if (key === 'listSessions') registryReads++;
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    try {
      for (let i = 1; i <= 3; i++) {
        // Claude Code at its prompt: the empty prompt line in its box.
        const box = '─'.repeat(40);
        const { paneId } = await real.newSession({ name: `s${i}`, cwd: dir, command: `printf '%s\\n' ${shellQuote(box)} ${shellQuote('❯\u00a0')} ${shellQuote(box)}; exec cat` });
        const states = new SessionStates(store, () => now);
        states.launched(`s${i}`, { paneId, account: 'work', cwd: dir, sessionId: `id-${i}`, keepLastError: false });
        states.ready(`s${i}`);
      }
      const panes = async () => new Map((await real.listPanes()).map((p) => [p.sessionName, p]));
      const lastOutput = Math.max(...[...(await panes()).values()].map((p) => p.activity ?? 0));
      await waitFor(() => Math.floor(Date.now() / 1000) > lastOutput, { what: 'the next second' });
      const m = new Monitor({ config, store: counted, tmux, logger: silentLogger(), now: () => now, activeAccount: () => config.accounts[0] ?? null, onLimit: () => undefined, onNearLimit: () => undefined });
      await m.pollScreens(await panes());
      expect(captured).toHaveLength(1);
      expect(registryReads).toBe(1);
      for (let i = 0; i < 3; i++) await m.pollScreens(await panes());
      expect(captured).toHaveLength(1);
      expect(registryReads).toBe(1);
      // A hook says s2 is working, but its screen is still the idle prompt: the next poll
      // reads the registry again and corrects it; then the pool is quiet again.
      new SessionStates(store, () => now).promptSubmitted('s2');
      await m.pollScreens(await panes());
      expect(registryReads).toBe(2);
      expect(store.getSession('s2')?.state).toBe('idle');
      await m.pollScreens(await panes());
      await m.pollScreens(await panes());
      expect(registryReads).toBe(2); // the poll's own correction does not count as news
      expect(captured).toHaveLength(1);
    } finally {
      await killPrivateServer(socket);
    }
  });
});
