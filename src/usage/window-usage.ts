import { USAGE_WINDOWS, type Store, type UsageReading, type UsageWindow } from '../store/store.js';

/** One window's latest reading as the status report gives it. Field names are a public contract. */
export interface WindowUsage {
  readonly percent: number;
  /** When the window resets (null: not known). */
  readonly resetsAt: string | null;
}

export type WindowsUsage = Readonly<Record<UsageWindow, WindowUsage | null>>;

/** How long each window lasts: a reading without a reset time is stale after that. */
const WINDOW_LENGTH_MS: Readonly<Record<UsageWindow, number>> = { five_hour: 5 * 3_600_000, seven_day: 7 * 86_400_000 };

/** A reading still describes its window at `now`: its reset has not passed (or, not known, the window's length has not). */
export function stillCurrent(reading: UsageReading, now: Date): boolean {
  if (reading.resetsAt) return reading.resetsAt.getTime() > now.getTime();
  return now.getTime() - reading.at.getTime() < WINDOW_LENGTH_MS[reading.window];
}

/** An account's latest reading of each window not yet reset (null: none, or its window has reset). One query per window. */
export function windowsUsage(store: Store, account: string, now: Date): WindowsUsage {
  const entries = USAGE_WINDOWS.map((window): [UsageWindow, WindowUsage | null] => {
    const latest = store.latestUsageReading(account, window);
    return [window, latest && stillCurrent(latest, now) ? { percent: latest.percent, resetsAt: latest.resetsAt?.toISOString() ?? null } : null];
  });
  return Object.fromEntries(entries) as Record<UsageWindow, WindowUsage | null>;
}
