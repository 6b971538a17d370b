/** How long a launch must live to count as started; a death sooner is a failed launch. */
export const QUICK_DEATH_MS = 15_000;
export const FIRST_RETRY_MS = 5_000;
export const MAX_RETRY_MS = 10 * 60_000;

/**
 * Whether a session died right after its launch. Judged by when the death was seen, never
 * by when the retry comes due: the wait before a retry is not uptime.
 */
export function isQuickDeath(launchedAt: number, diedAt: number, thresholdMs = QUICK_DEATH_MS): boolean {
  return diedAt - launchedAt < thresholdMs;
}

/** The wait before retry number `streak` (1 for the first failure): 5 s, 10 s, 20 s, 40 s… up to 10 min. */
export function retryDelayMs(streak: number): number {
  const exponent = Math.max(0, Math.floor(streak) - 1);
  return Math.min(FIRST_RETRY_MS * 2 ** Math.min(exponent, 30), MAX_RETRY_MS);
}
