import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from '../config/types.js';
import type { Store, SessionState } from '../store/store.js';
import { TASK_STATES, type TaskQueue } from '../store/task-queue.js';
import type { Notifier } from '../notify/notifier.js';
import type { LimitEvent } from '../monitor/limit-event.js';
import type { ControlEvent } from '../monitor/control-socket.js';
import { isAvailable } from '../switcher/choose-target.js';
import { windowsUsage } from '../usage/window-usage.js';
import { USAGE_WINDOWS } from '../store/store.js';
import { PARTIAL_SWAP_FLAG, type SwapStep, type SwitchOutcome, type SwitchTrigger } from '../switcher/types.js';

/** What the collect-time gauges read when /metrics is scraped (nothing is pushed to them). */
export interface MetricsSources {
  readonly config: Config;
  readonly store: Store;
  /** The task queue, when it is not the store's own (the fleet's, with store.shared). */
  readonly tasks?: TaskQueue;
  /** With store.shared: whether this host has lost the shared database (the fleet_degraded gauge). */
  readonly fleetDegraded?: () => boolean;
  readonly notifier: Notifier;
  readonly now: () => Date;
}

/**
 * Every family /metrics serves. Counters and histograms are fed where their event happens
 * (a switch request's outcome, a limit event, a hook); gauges read the store at scrape time.
 */
export interface Metrics {
  readonly registry: Registry;
  /** A swap's journal step was written: `saved` starts its clock. */
  swapStep(step: SwapStep): void;
  /** The switcher's outcome of the request being run: the swap's duration and its continuations. */
  swapEnded(outcome: SwitchOutcome): void;
  /** A switch request answered, with the trigger that asked for it. */
  switchRequested(trigger: SwitchTrigger, outcome: SwitchOutcome): void;
  /** A new limit reached the switcher (`at`: when; `event.detectedAt`: when its signal arrived). */
  limitDetected(event: LimitEvent, at: Date): void;
  /** A hook or statusline message from a Claude Code session. */
  hookEvent(event: ControlEvent): void;
}

export const METRIC_PREFIX = 'claude_failover_';
const SESSION_STATES: readonly SessionState[] = ['idle', 'working', 'limited', 'starting', 'dead'];
/** The hook events Claude Code sends; anything else is `other`, so a sender cannot grow the label set. */
const HOOK_EVENTS = new Set(['SessionStart', 'UserPromptSubmit', 'Stop', 'StopFailure', 'SubagentStop', 'PreToolUse', 'PostToolUse', 'Notification', 'PreCompact', 'SessionEnd']);

export function createMetrics(sources?: MetricsSources): Metrics {
  const registry = new Registry();
  const registers = [registry];
  const name = (n: string) => `${METRIC_PREFIX}${n}`;
  // The event-loop-lag histogram samples every `eventLoopMonitoringPrecision` ms: at its
  // default (10 ms) it alone woke the idle daemon 100 times a second (~1% of a core).
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX, eventLoopMonitoringPrecision: 500 });

  const swaps = new Counter({ name: name('swaps_total'), help: 'Switch requests by trigger and result (done, cancelled, partial, no-target: a swap was tried; skipped, deferred, refused: nothing moved)', labelNames: ['trigger', 'result'], registers });
  const swapDuration = new Histogram({ name: name('swap_duration_seconds'), help: 'From a swap\'s first journal step to its outcome, by result', labelNames: ['result'], buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300], registers });
  const continuations = new Counter({ name: name('continuations_total'), help: 'Continuation prompts after a swap: delivered (Claude Code confirmed it) or not-delivered', labelNames: ['result'], registers });
  const limitEvents = new Counter({ name: name('limit_events_total'), help: 'New usage limits detected, by the signal that saw them first', labelNames: ['source'], registers });
  const detectionLatency = new Histogram({ name: name('detection_latency_seconds'), help: 'From a limit signal reaching the daemon to its limit event (a hook includes reading the reset from the transcript), by signal', labelNames: ['source'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5], registers });
  const hookEvents = new Counter({ name: name('hook_events_total'), help: 'Hook events and statusline updates received from Claude Code, by type', labelNames: ['type'], registers });
  for (const source of ['hook', 'transcript', 'statusline', 'screen', 'fleet']) {
    limitEvents.inc({ source }, 0);
  }
  for (const result of ['delivered', 'not-delivered']) continuations.inc({ result }, 0);

  const read = sources;
  new Gauge({
    name: name('active_account'), help: '1 for the active account, 0 for the others', labelNames: ['account'], registers,
    collect() {
      if (!read) return;
      const active = read.store.getActiveAccount();
      for (const a of read.config.accounts) this.set({ account: a.name }, a.name === active ? 1 : 0);
    },
  });
  new Gauge({
    name: name('account_exhausted'), help: '1 while the ledger says the account is exhausted (its limit not reset)', labelNames: ['account'], registers,
    collect() {
      if (!read) return;
      const now = read.now();
      const ledger = new Map(read.store.getLedger().map((e) => [e.account, e]));
      for (const a of read.config.accounts) this.set({ account: a.name }, isAvailable(ledger.get(a.name), now) ? 0 : 1);
    },
  });
  new Gauge({
    name: name('account_usage_ratio'), help: 'The latest usage reading (0-1) of each window (five_hour, seven_day) not yet reset; no series for a window without one', labelNames: ['account', 'window'], registers,
    collect() {
      if (!read) return;
      this.reset();
      const now = read.now();
      for (const a of read.config.accounts) {
        const windows = windowsUsage(read.store, a.name, now);
        for (const window of USAGE_WINDOWS) {
          const reading = windows[window];
          if (reading) this.set({ account: a.name, window }, reading.percent / 100);
        }
      }
    },
  });
  new Gauge({
    name: name('partial_swap'), help: '1 while a partial swap is flagged (every swap refused until claude-failover resolve)', registers,
    collect() {
      if (read) this.set(read.store.getFlag(PARTIAL_SWAP_FLAG).set ? 1 : 0);
    },
  });
  new Gauge({
    name: name('sessions'), help: 'Managed sessions by state', labelNames: ['state'], registers,
    collect() {
      if (!read) return;
      const all = read.store.listSessions();
      for (const state of SESSION_STATES) this.set({ state }, all.filter((s) => (s.state ?? 'starting') === state).length);
    },
  });
  const fleetDegraded = sources?.fleetDegraded;
  if (fleetDegraded) {
    new Gauge({
      name: name('fleet_degraded'), help: '1 while this host cannot reach the shared database (store.shared) and fails over on its own ledger', registers,
      collect() { this.set(fleetDegraded() ? 1 : 0); },
    });
  }
  new Gauge({
    name: name('tasks'), help: 'Tasks in the queue by state', labelNames: ['state'], registers,
    async collect() {
      if (!read) return;
      // The fleet's queue may be out of reach (the shared database down): the other families are still served.
      const counts = await (read.tasks ?? read.store.tasks).counts().catch(() => null);
      if (counts) for (const state of TASK_STATES) this.set({ state }, counts[state]);
      else this.reset();
    },
  });
  new Counter({
    name: name('notifications_total'), help: 'Notifications by channel and result (ok, failed: not delivered after its retries)', labelNames: ['channel', 'result'], registers,
    collect() {
      if (!read) return;
      const counts = new Map<string, { channel: string; result: string; n: number }>();
      for (const d of read.notifier.deliveries()) {
        const result = d.ok ? 'ok' : 'failed';
        const key = `${d.channel}\0${result}`;
        const entry = counts.get(key) ?? { channel: d.channel, result, n: 0 };
        entry.n++;
        counts.set(key, entry);
      }
      this.reset();
      for (const c of counts.values()) this.inc({ channel: c.channel, result: c.result }, c.n);
    },
  });

  let swapStartedAt: number | null = null;
  return {
    registry,
    swapStep(step) {
      if (step === 'saved') swapStartedAt = performance.now();
    },
    swapEnded(outcome) {
      if (outcome.result === 'done') {
        for (const s of outcome.sessions) {
          if (s.continuation !== 'not-needed') continuations.inc({ result: s.continuation });
        }
      }
      if (swapStartedAt !== null && (outcome.result === 'done' || outcome.result === 'cancelled' || outcome.result === 'partial')) {
        swapDuration.observe({ result: outcome.result }, (performance.now() - swapStartedAt) / 1000);
      }
      swapStartedAt = null;
    },
    switchRequested(trigger, outcome) {
      swaps.inc({ trigger, result: outcome.result });
    },
    limitDetected(event, at) {
      limitEvents.inc({ source: event.source });
      detectionLatency.observe({ source: event.source }, Math.max(0, at.getTime() - event.detectedAt.getTime()) / 1000);
    },
    hookEvent(event) {
      hookEvents.inc({ type: event.type === 'statusline' ? 'statusline' : HOOK_EVENTS.has(event.event) ? event.event : 'other' });
    },
  };
}
