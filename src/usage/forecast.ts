import type { UsageReading, UsageWindow } from '../store/store.js';

/** How far back the pace is measured. */
export const FORECAST_LOOKBACK_MS = 30 * 60_000;
/** Two readings whose resets differ by more than this are of different windows. */
const SAME_WINDOW_TOLERANCE_MS = 10 * 60_000;

/**
 * When a window reaches 100% at the current pace:
 * - `limit`: before the window resets, at `at`;
 * - `reset-first`: the pace does not get there before `resetsAt`;
 * - `none`: too few readings in the current window, or usage not rising.
 */
export type WindowForecast =
  | { readonly kind: 'limit'; readonly window: UsageWindow; readonly at: Date; readonly percent: number; readonly percentPerHour: number; readonly resetsAt: Date | null }
  | { readonly kind: 'reset-first'; readonly window: UsageWindow; readonly resetsAt: Date; readonly percent: number; readonly percentPerHour: number }
  | { readonly kind: 'none'; readonly window: UsageWindow; readonly reason: 'too-few-readings' | 'not-rising' };

/**
 * The readings of the window that is current at `now`, oldest first: those after the last
 * reset seen (a reset time that moved on, usage that fell, or a reading's own reset passed).
 */
export function currentWindowReadings(readings: readonly UsageReading[], now: Date): UsageReading[] {
  const sorted = [...readings].filter((r) => r.at.getTime() <= now.getTime()).sort((a, b) => a.at.getTime() - b.at.getTime());
  let start = 0;
  for (let i = 1; i < sorted.length; i++) {
    const before = sorted[i - 1];
    const reading = sorted[i];
    if (!before || !reading) continue;
    const resetMoved = before.resetsAt !== null && reading.resetsAt !== null && Math.abs(reading.resetsAt.getTime() - before.resetsAt.getTime()) > SAME_WINDOW_TOLERANCE_MS;
    const resetPassed = before.resetsAt !== null && before.resetsAt.getTime() <= reading.at.getTime();
    if (resetMoved || resetPassed || reading.percent < before.percent) start = i;
  }
  const current = sorted.slice(start);
  const last = current.at(-1);
  // The window of the last reading has itself reset: nothing is known of the new one.
  if (last?.resetsAt && last.resetsAt.getTime() <= now.getTime()) return [];
  return current;
}

/** Least-squares slope in percent per millisecond, or null with fewer than two distinct times. */
function slopePerMs(readings: readonly UsageReading[]): number | null {
  if (readings.length < 2) return null;
  const t0 = readings[0]?.at.getTime() ?? 0;
  const xs = readings.map((r) => r.at.getTime() - t0);
  const ys = readings.map((r) => r.percent);
  const n = readings.length;
  const meanX = xs.reduce((a, b) => a + b, 0) / n;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] ?? 0) - meanX;
    sxy += dx * ((ys[i] ?? 0) - meanY);
    sxx += dx * dx;
  }
  return sxx === 0 ? null : sxy / sxx;
}

/**
 * When one window hits 100% at the pace of its last `lookbackMs` of readings (least
 * squares), counted from the latest reading; never later than the window's reset.
 */
export function forecastWindow(window: UsageWindow, readings: readonly UsageReading[], now: Date, lookbackMs = FORECAST_LOOKBACK_MS): WindowForecast {
  const current = currentWindowReadings(readings.filter((r) => r.window === window), now);
  const recent = current.filter((r) => r.at.getTime() >= now.getTime() - lookbackMs);
  const last = recent.at(-1);
  if (!last || recent.length < 2) return { kind: 'none', window, reason: 'too-few-readings' };
  const slope = slopePerMs(recent);
  if (slope === null) return { kind: 'none', window, reason: 'too-few-readings' };
  if (slope <= 0) return { kind: 'none', window, reason: 'not-rising' };
  const percentPerHour = slope * 3600_000;
  const at = new Date(last.at.getTime() + Math.max(0, 100 - last.percent) / slope);
  const resetsAt = last.resetsAt;
  if (resetsAt && at.getTime() >= resetsAt.getTime()) return { kind: 'reset-first', window, resetsAt, percent: last.percent, percentPerHour };
  return { kind: 'limit', window, at, percent: last.percent, percentPerHour, resetsAt };
}

/**
 * The account's forecast over both windows: the earliest limit, else a window whose reset
 * comes first, else why there is none (the five-hour window's reason).
 */
export function forecastAccount(readings: readonly UsageReading[], now: Date, lookbackMs = FORECAST_LOOKBACK_MS): WindowForecast {
  const each = (['five_hour', 'seven_day'] as const).map((w) => forecastWindow(w, readings, now, lookbackMs));
  const limits = each.flatMap((f) => (f.kind === 'limit' ? [f] : [])).sort((a, b) => a.at.getTime() - b.at.getTime());
  const first = limits[0];
  if (first) return first;
  return each.find((f) => f.kind === 'reset-first') ?? each[0] ?? { kind: 'none', window: 'five_hour', reason: 'too-few-readings' };
}
