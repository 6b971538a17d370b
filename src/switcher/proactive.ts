import type { Logger } from '../log.js';
import type { ForecastCause } from '../usage/account-forecast.js';
import { waitForQuietMoment } from './quiet-moment.js';

export interface ProactiveDeps {
  /** True while a pool session is mid-answer. */
  readonly busy: () => boolean;
  readonly graceMs: number;
  readonly thresholdPercent: number | null;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  readonly logger: Logger;
  /** Asks the switcher for the proactive swap (never rejects). */
  readonly request: (account: string, reason: string) => Promise<unknown>;
}

const WINDOW_NAMES: Readonly<Record<string, string>> = { five_hour: '5-hour', seven_day: 'weekly' };

/**
 * Why the proactive switch was asked for. Without a cause, usage under the threshold (or no
 * threshold at all) can only have been the forecast's doing: the monitor checks the threshold first.
 */
export function proactiveReason(percent: number, thresholdPercent: number | null, cause?: ForecastCause): string {
  if (cause) {
    const window = WINDOW_NAMES[cause.window] ?? cause.window;
    return `the forecast reaches the ${window} limit at ${cause.limitAt.toISOString()} (usage at ${String(percent)}%, ${String(Math.round(cause.percentPerHour * 10) / 10)}%/h; monitor.proactiveForecastMs)`;
  }
  if (thresholdPercent !== null && percent >= thresholdPercent) return `usage at ${String(percent)}% (monitor.proactivePercent ${String(thresholdPercent)}%)`;
  return `the forecast reaches the limit within monitor.proactiveForecastMs (usage at ${String(percent)}%)`;
}

/**
 * Before the limit: once usage crosses the threshold, waits (up to the grace) for no pool
 * session to be mid-answer, then asks for the swap. One wait at a time; `stop()` ends a wait
 * in progress and resolves once it has, so nothing reads the store after the daemon closed it.
 */
export class ProactiveSwitch {
  private pending: Promise<void> | null = null;
  private stopped = false;
  private readonly deps: ProactiveDeps;

  constructor(deps: ProactiveDeps) {
    this.deps = deps;
  }

  /** Usage on `account` crossed the threshold, or (`cause`) the forecast reaches the limit soon. */
  trigger(account: string, percent: number, cause?: ForecastCause): void {
    if (this.pending || this.stopped) return;
    this.pending = this.run(account, percent, cause)
      .catch((err: unknown) => {
        this.deps.logger.warn({ account, err: err instanceof Error ? err.message : String(err) }, 'proactive switch failed');
      })
      .finally(() => {
        this.pending = null;
      });
  }

  private async run(account: string, percent: number, cause: ForecastCause | undefined): Promise<void> {
    const moment = await waitForQuietMoment({ busy: this.deps.busy, graceMs: this.deps.graceMs, checkEveryMs: 250, now: this.deps.now, sleep: this.deps.sleep, cancelled: () => this.stopped });
    if (this.stopped) return;
    this.deps.logger.info({ account, percent, ...moment }, moment.quiet ? 'proactive switch at a quiet moment' : 'proactive switch: the grace ran out with sessions still working');
    await this.deps.request(account, proactiveReason(percent, this.deps.thresholdPercent, cause));
  }

  /** Ends a wait in progress (no swap follows) and resolves once it has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.pending;
  }
}
