/** The furthest a usage window's reset can be: a weekly window, with room for a calendar month. */
const MAX_AHEAD_MS = 35 * 24 * 3600_000;
/** A reset this far in the past is no reset at all (a stale or broken record). */
const MAX_BEHIND_MS = 3600_000;

/**
 * A reset time (epoch seconds, as Claude Code and the API give it) that is a real moment near
 * now, or null: an out-of-range value (1e20) must fall back to a guess, never become an
 * "Invalid Date" that throws later when it is formatted.
 */
export function validReset(epochSeconds: number | null | undefined, now: Date = new Date()): Date | null {
  if (typeof epochSeconds !== 'number' || !Number.isFinite(epochSeconds)) return null;
  const ms = epochSeconds * 1000;
  if (ms > now.getTime() + MAX_AHEAD_MS || ms < now.getTime() - MAX_BEHIND_MS) return null;
  return new Date(ms);
}
