/**
 * Wall-clock times in an IANA zone → instants, with Intl only. Claude Code prints resets as
 * local wall-clock times (`resets 9:51pm (America/New_York)`, `Nov 26, 7:50pm`).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, f);
  }
  return f;
}

export function isValidZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

export function hostZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

export interface WallClock {
  readonly year: number;
  readonly month: number; // 1-12
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
}

export function wallClockAt(instant: Date, zone: string): WallClock {
  const parts = Object.fromEntries(formatter(zone).formatToParts(instant).map((p) => [p.type, p.value]));
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day), hour: Number(parts.hour) % 24, minute: Number(parts.minute) };
}

function offsetAt(instantMs: number, zone: string): number {
  const w = wallClockAt(new Date(instantMs), zone);
  const seconds = new Date(instantMs).getUTCSeconds();
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, seconds) - (instantMs - (instantMs % 1000));
}

/**
 * The instant a wall-clock time names in `zone`. Around DST: a time that does not exist
 * (spring forward) moves forward by the gap; an ambiguous one (fall back) takes the first.
 */
export function instantOf(wall: WallClock, zone: string): Date {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  const first = asUtc - offsetAt(asUtc, zone);
  const second = asUtc - offsetAt(first, zone);
  if (first === second) {
    // Ambiguous hour: prefer the earlier instant if it also shows this wall time.
    const earlier = asUtc - offsetAt(first - 3600_000, zone);
    const w = wallClockAt(new Date(earlier), zone);
    if (earlier < first && w.hour === wall.hour && w.minute === wall.minute && w.day === wall.day) return new Date(earlier);
    return new Date(first);
  }
  const w = wallClockAt(new Date(second), zone);
  if (w.hour === wall.hour && w.minute === wall.minute) return new Date(second);
  return new Date(Math.max(first, second));
}

/** Adds calendar days to a wall-clock date (month and year roll over). */
export function addDays(wall: WallClock, days: number): WallClock {
  const d = new Date(Date.UTC(wall.year, wall.month - 1, wall.day + days));
  return { ...wall, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** A shown reset time this recent is the reset happening now (the display drops the seconds), not the next day's. */
const JUST_PAST_MS = 5 * 60_000;

/**
 * Resolves `hour:minute` (and an optional date) as the next such moment after `now` in
 * `zone`: a bare time already past today (by more than a few minutes) means tomorrow; a date without a year is its
 * next occurrence.
 */
export function nextOccurrence(spec: { month?: number; day?: number; year?: number; hour: number; minute: number }, zone: string, now: Date): Date {
  const today = wallClockAt(now, zone);
  if (spec.month !== undefined && spec.day !== undefined) {
    const year = spec.year ?? today.year;
    const at = instantOf({ year, month: spec.month, day: spec.day, hour: spec.hour, minute: spec.minute }, zone);
    if (spec.year !== undefined || at > now) return at;
    return instantOf({ year: year + 1, month: spec.month, day: spec.day, hour: spec.hour, minute: spec.minute }, zone);
  }
  const candidate = instantOf({ ...today, hour: spec.hour, minute: spec.minute }, zone);
  // The banner shows the reset to the minute, cut: "resets 3:12pm" read at 3:12:04 is a
  // reset seconds away, not tomorrow's.
  if (candidate.getTime() > now.getTime() - JUST_PAST_MS) return candidate;
  return instantOf({ ...addDays(today, 1), hour: spec.hour, minute: spec.minute }, zone);
}
