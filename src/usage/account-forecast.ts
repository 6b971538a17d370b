import type { Store } from '../store/store.js';
import { FORECAST_LOOKBACK_MS, forecastAccount, type WindowForecast } from './forecast.js';

/** The forecast as `status --json` and `/api/status` give it. Field names are a public contract. */
export interface ForecastReport {
  readonly account: string;
  /** `limit`: hits 100% at `limitAt`; `reset-first`: the window resets (`resetsAt`) before; `none`: see `reason`. */
  readonly state: WindowForecast['kind'];
  readonly window: string;
  readonly limitAt: string | null;
  readonly resetsAt: string | null;
  /** The latest reading of that window. */
  readonly percent: number | null;
  /** The pace over the last half hour. */
  readonly percentPerHour: number | null;
  /** Why there is none: `too-few-readings` or `not-rising`. */
  readonly reason: string | null;
}

/** What started a proactive switch, when it was the forecast (`monitor.proactiveForecastMs`). */
export interface ForecastCause {
  readonly kind: 'forecast';
  readonly window: string;
  readonly limitAt: Date;
  readonly percentPerHour: number;
}

/** An account's forecast from the readings the store keeps (both windows; the earliest limit wins). */
export function accountForecast(store: Store, account: string, now: Date): WindowForecast {
  // The weekly window's pace is measured over the same half hour: older readings are not needed.
  const since = new Date(now.getTime() - FORECAST_LOOKBACK_MS - 60 * 60_000);
  const readings = [...store.usageReadings(account, 'five_hour', since), ...store.usageReadings(account, 'seven_day', since)];
  return forecastAccount(readings, now);
}

export function forecastReport(account: string, f: WindowForecast): ForecastReport {
  const round = (n: number) => Math.round(n * 10) / 10;
  switch (f.kind) {
    case 'limit':
      return { account, state: f.kind, window: f.window, limitAt: f.at.toISOString(), resetsAt: f.resetsAt?.toISOString() ?? null, percent: f.percent, percentPerHour: round(f.percentPerHour), reason: null };
    case 'reset-first':
      return { account, state: f.kind, window: f.window, limitAt: null, resetsAt: f.resetsAt.toISOString(), percent: f.percent, percentPerHour: round(f.percentPerHour), reason: null };
    case 'none':
      return { account, state: f.kind, window: f.window, limitAt: null, resetsAt: null, percent: null, percentPerHour: null, reason: f.reason };
  }
}
