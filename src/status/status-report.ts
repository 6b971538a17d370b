import type { Config } from '../config/types.js';
import type { Store } from '../store/store.js';
import { PARTIAL_SWAP_FLAG } from '../switcher/types.js';
import { isAvailable } from '../switcher/choose-target.js';
import { taskJson, TASK_STATES, type TaskJson, type TaskQueue, type TaskState } from '../store/task-queue.js';
import { accountForecast, forecastReport, type ForecastReport } from '../usage/account-forecast.js';
import { windowsUsage, type WindowsUsage } from '../usage/window-usage.js';
import type { FleetReport } from '../fleet/fleet.js';

/** An account at or over this much of its window (or `monitor.proactivePercent`, when set) is near its limit. */
export const NEAR_LIMIT_PERCENT = 80;

/** What `status --json` prints and `/api/status` serves. Field names are a public contract. */
export interface StatusReport {
  readonly activeAccount: string | null;
  readonly link: string | null;
  readonly partialSwap: { readonly set: boolean; readonly reason: string | null; readonly since: string | null };
  readonly accounts: readonly {
    readonly name: string;
    readonly home: string;
    readonly preferred: boolean;
    readonly exhausted: boolean;
    readonly kind: string | null;
    readonly resetsAt: string | null;
    readonly resetGuessed: boolean;
    readonly usagePercent: number | null;
    /** When the window of the last usage reading resets (null: not known). */
    readonly usageResetsAt: string | null;
    /** Available, with the last reading of a window not yet reset at or over the near-limit mark. */
    readonly nearLimit: boolean;
    /** The latest reading of each window (`five_hour`, `seven_day`) not yet reset; null when none. */
    readonly windows: WindowsUsage;
  }[];
  readonly sessions: readonly {
    readonly name: string;
    readonly account: string | null;
    readonly sessionId: string | null;
    readonly state: string;
    readonly cwd: string | null;
    readonly lastError: string | null;
    /** Launches that failed in a row (crash recovery's streak). */
    readonly restarts: number;
  }[];
  readonly swaps: readonly {
    readonly from: string | null;
    readonly to: string | null;
    readonly at: string;
    readonly result: string;
    readonly reason: string | null;
    readonly trigger: string;
  }[];
  readonly scheduled: readonly { readonly kind: string; readonly at: string }[];
  /** When the report was made (the page counts down to resets from it). */
  readonly generatedAt: string;
  /**
   * When the active account hits its limit at the pace of the last half hour of readings
   * (`state`: `limit` at `limitAt`, `reset-first` when its window resets before, `none` with a
   * `reason`); null without an active account.
   */
  readonly forecast: ForecastReport | null;
  /** This host's fleet (store.shared): the hosts, and whether the shared database is lost; absent or null on a single host. */
  readonly fleet?: FleetReport | null;
}

export function buildStatus(config: Config, store: Store, link: string | null, now: Date): StatusReport {
  const ledger = new Map(store.getLedger().map((e) => [e.account, e]));
  const flag = store.getFlag(PARTIAL_SWAP_FLAG);
  const nearMark = config.monitor.proactivePercent ?? NEAR_LIMIT_PERCENT;
  const active = store.getActiveAccount();
  return {
    activeAccount: active,
    link,
    partialSwap: { set: flag.set, reason: flag.reason, since: flag.since?.toISOString() ?? null },
    accounts: config.accounts.map((a, i) => {
      const entry = ledger.get(a.name);
      const exhausted = !isAvailable(entry, now);
      return {
        name: a.name,
        home: a.home,
        preferred: i === 0,
        exhausted,
        kind: exhausted ? (entry?.kind ?? null) : null,
        resetsAt: exhausted ? (entry?.resetsAt?.toISOString() ?? null) : null,
        resetGuessed: exhausted && (entry?.resetGuessed ?? false),
        usagePercent: entry?.usagePercent ?? null,
        usageResetsAt: entry?.usageResetsAt?.toISOString() ?? null,
        nearLimit: !exhausted && (entry?.usagePercent ?? 0) >= nearMark && !(entry?.usageResetsAt && entry.usageResetsAt <= now),
        windows: windowsUsage(store, a.name, now),
      };
    }),
    sessions: store.listSessions().map((s) => ({
      name: s.name,
      account: s.account ?? null,
      sessionId: s.sessionId ?? null,
      state: s.state ?? 'starting',
      cwd: s.cwd ?? null,
      lastError: s.lastError ?? null,
      restarts: s.restarts,
    })),
    swaps: store.listSwaps(20).map((s) => ({ from: s.from, to: s.to, at: s.at.toISOString(), result: s.result, reason: s.reason, trigger: s.trigger })),
    scheduled: store.listJobs().map((j) => ({ kind: j.kind, at: j.runAt.toISOString() })),
    generatedAt: now.toISOString(),
    forecast: active ? forecastReport(active, accountForecast(store, active, now)) : null,
  };
}

/** The task queue as the status page shows it: counts by state and the latest tasks. */
export interface TaskQueueReport {
  readonly counts: Record<TaskState, number>;
  /** Running and queued ones first (oldest first), then the latest finished, at most `limit` in all. */
  readonly tasks: readonly TaskJson[];
}

const FINISHED: readonly TaskState[] = ['done', 'failed', 'cancelled'];

/**
 * Reads the task report each time it is called (the page's event stream: twice a second),
 * listing the finished tasks again only when their counts change: a long history costs one
 * count query, not a full read.
 */
export function taskReporter(queue: TaskQueue, limit = 50): () => Promise<TaskQueueReport> {
  let finished: { key: string; tasks: TaskJson[] } | null = null;
  return async () => {
    const counts = await queue.counts();
    const key = FINISHED.map((s) => counts[s]).join(',');
    if (finished?.key !== key) {
      const lists = await Promise.all(FINISHED.map((state) => queue.list({ state })));
      finished = { key, tasks: lists.flat().sort((a, b) => b.id - a.id).slice(0, limit).map(taskJson) };
    }
    const open = [...(await queue.list({ state: 'running' })), ...(await queue.list({ state: 'queued' }))].slice(0, limit).map(taskJson);
    return { counts: Object.fromEntries(TASK_STATES.map((s) => [s, counts[s]])) as Record<TaskState, number>, tasks: [...open, ...finished.tasks].slice(0, limit) };
  };
}

/** The task queue's counts and each session's current task (a running one), for `status`. */
export interface StatusWithTasks extends StatusReport {
  readonly tasks: { readonly counts: Record<TaskState, number> };
  readonly sessions: readonly (StatusReport['sessions'][number] & { readonly task: TaskJson | null })[];
}

/** Adds the task fields to a report (nothing is renamed: the report's fields are a public contract). */
export async function withTasks(report: StatusReport, queue: TaskQueue): Promise<StatusWithTasks> {
  const counts = await queue.counts();
  const running = await queue.list({ state: 'running' });
  return {
    ...report,
    tasks: { counts: Object.fromEntries(TASK_STATES.map((s) => [s, counts[s]])) as Record<TaskState, number> },
    sessions: report.sessions.map((s) => {
      const task = running.find((t) => t.session === s.name);
      return { ...s, task: task ? taskJson(task) : null };
    }),
  };
}

/** The same report for a person. */
export function formatStatus(report: StatusReport): string {
  const lines: string[] = [];
  lines.push(`active account: ${report.activeAccount ?? '(none)'}    link → ${report.link ?? '(missing)'}`);
  if (report.partialSwap.set) lines.push(`!! PARTIAL SWAP since ${report.partialSwap.since ?? '?'}: ${report.partialSwap.reason ?? ''}\n   repair the layout, then run: claude-failover resolve`);
  lines.push('', 'accounts:');
  for (const a of report.accounts) {
    const state = a.exhausted ? `exhausted (${a.kind ?? 'unknown'}) until ${a.resetsAt ?? '?'}${a.resetGuessed ? ' (guessed)' : ''}` : 'available';
    lines.push(`  ${a.name === report.activeAccount ? '*' : ' '} ${a.name.padEnd(14)} ${state}${a.usagePercent !== null ? `, ${a.usagePercent}% used` : ''}${a.preferred ? '  [preferred]' : ''}`);
  }
  lines.push('', 'sessions:');
  if (report.sessions.length === 0) lines.push('  (none)');
  for (const s of report.sessions) {
    lines.push(`  ${s.name.padEnd(16)} ${s.state.padEnd(9)} ${(s.account ?? '-').padEnd(12)} ${s.sessionId ?? '-'}  ${s.cwd ?? ''}`);
    if (s.lastError) lines.push(`      last error: ${s.lastError.split('\n').join('\n      ')}`);
  }
  lines.push('', 'recent swaps:');
  if (report.swaps.length === 0) lines.push('  (none)');
  for (const s of report.swaps.slice(0, 10)) lines.push(`  ${s.at}  ${s.from ?? '-'} → ${s.to ?? '-'}  ${s.result}${s.reason ? `: ${s.reason}` : ''} (${s.trigger})`);
  if (report.scheduled.length > 0) {
    lines.push('', 'scheduled:');
    for (const j of report.scheduled) lines.push(`  ${j.kind} at ${j.at}`);
  }
  return lines.join('\n');
}
