/**
 * Waits for a moment when no pool session is mid-answer, for at most `graceMs`: a
 * proactive swap restarts every session, and one that is answering would lose the answer
 * it is writing (its transcript keeps what was written; the turn itself is cut).
 */
export interface QuietMomentOptions {
  /** True while a pool session is working. */
  readonly busy: () => boolean;
  readonly graceMs: number;
  /** How often to look again (the registry changes with hooks, a few times a second at most). */
  readonly checkEveryMs: number;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  /** Stop waiting (the daemon is stopping): answered as not quiet. */
  readonly cancelled?: () => boolean;
}

export interface QuietMoment {
  /** False when the grace ran out with a session still working. */
  readonly quiet: boolean;
  readonly waitedMs: number;
}

export async function waitForQuietMoment(options: QuietMomentOptions): Promise<QuietMoment> {
  const start = options.now().getTime();
  for (;;) {
    const waitedMs = options.now().getTime() - start;
    if (options.cancelled?.()) return { quiet: false, waitedMs };
    if (!options.busy()) return { quiet: true, waitedMs };
    if (waitedMs >= options.graceMs) return { quiet: false, waitedMs };
    await options.sleep(Math.min(options.checkEveryMs, options.graceMs - waitedMs));
  }
}
