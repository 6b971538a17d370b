import { stripAnsi } from './ansi.js';
import { MONTHS, hostZone, isValidZone, nextOccurrence } from './reset-time.js';

export type LimitKind = 'five_hour' | 'seven_day' | 'opus' | 'sonnet' | 'extra_usage' | 'unknown';

export type LimitParse =
  | { readonly blocked: true; readonly kind: LimitKind; readonly resetsAt: Date | null; readonly resetGuessed: boolean; readonly text: string; readonly rule: string }
  | { readonly blocked: false; readonly warning?: { readonly percent: number; readonly kind: LimitKind; readonly resetsAt: Date | null }; readonly rule: string | null };

export interface LimitParseOptions {
  readonly now: Date;
  /** Used when the text names no zone (default: the host's). */
  readonly timeZone?: string;
  /** Assumed time to reset when one cannot be read (default 1 h); the result says it is a guess. */
  readonly fallbackResetMs?: number;
}

const BULLET = String.raw`\s*(?:[·∙•]|\s-)\s*`;
const APOS = `['’]`;

/** "5-hour", "session", "weekly", "Opus weekly", ... → the limit it names. */
function kindOf(qualifier: string | undefined): LimitKind {
  const q = (qualifier ?? '').toLowerCase();
  if (q.includes('opus')) return 'opus';
  if (q.includes('sonnet')) return 'sonnet';
  if (q.includes('week')) return 'seven_day';
  if (q.includes('5-hour') || q.includes('5 hour') || q.includes('session')) return 'five_hour';
  if (q.includes('extra')) return 'extra_usage';
  return 'unknown';
}

export function rateLimitTypeToKind(type: string): LimitKind {
  switch (type) {
    case 'five_hour':
      return 'five_hour';
    case 'seven_day':
      return 'seven_day';
    case 'seven_day_opus':
      return 'opus';
    case 'seven_day_sonnet':
      return 'sonnet';
    case 'overage':
    case 'extra_usage':
      return 'extra_usage';
    default:
      return 'unknown';
  }
}

const TIME = String.raw`(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\.?`;
const DATE = String.raw`(?:([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2})(?:,\s*(\d{4}))?(?:,\s*|\s+at\s+|\s+))?`;
const ABSOLUTE = new RegExp(String.raw`^\s*${DATE}${TIME}(?:\s*\(([A-Za-z_]+(?:/[A-Za-z0-9_+-]+)*)\))?`, 'i');
const RELATIVE = /^\s*in\s+(?:(\d+)\s*(?:h|hr|hrs|hours?))?\s*(?:(\d+)\s*(?:m|min|mins|minutes?))?/i;

/** The reset named after "resets " / "reset at " / "try again ": absolute, relative, or unreadable. */
export function parseResetPhrase(phrase: string, options: LimitParseOptions): { resetsAt: Date; guessed: boolean; relative: boolean } {
  const fallback = () => ({ resetsAt: new Date(options.now.getTime() + (options.fallbackResetMs ?? 3600_000)), guessed: true, relative: false });
  const relative = RELATIVE.exec(phrase);
  if (relative && (relative[1] !== undefined || relative[2] !== undefined)) {
    const ms = (Number(relative[1] ?? 0) * 60 + Number(relative[2] ?? 0)) * 60_000;
    return { resetsAt: new Date(options.now.getTime() + ms), guessed: false, relative: true };
  }
  const m = ABSOLUTE.exec(phrase);
  if (!m) return fallback();
  const [, monthName, dayText, yearText, hourText, minuteText, ampm, zoneText] = m;
  let hour = Number(hourText) % 12;
  if (ampm?.toLowerCase() === 'p') hour += 12;
  const minute = Number(minuteText ?? 0);
  if (hour > 23 || minute > 59) return fallback();
  const zone = zoneText && isValidZone(zoneText) ? zoneText : options.timeZone && isValidZone(options.timeZone) ? options.timeZone : hostZone();
  const month = monthName ? MONTHS.indexOf(monthName.toLowerCase().slice(0, 3)) + 1 : 0;
  if (monthName && month === 0) return fallback();
  const spec = month > 0 ? { month, day: Number(dayText), hour, minute, ...(yearText ? { year: Number(yearText) } : {}) } : { hour, minute };
  return { resetsAt: nextOccurrence(spec, zone, options.now), guessed: false, relative: false };
}

interface Rule {
  readonly name: string;
  readonly pattern: RegExp;
  /** Which capture holds the limit's qualifier, and which the reset phrase. */
  readonly kind: (m: RegExpExecArray) => LimitKind;
  readonly reset: (m: RegExpExecArray) => string | null;
}

const BLOCKING: readonly Rule[] = [
  {
    name: 'machine:epoch',
    pattern: /Claude AI usage limit reached\|(\d{9,13})/i,
    kind: () => 'unknown',
    reset: (m) => `@${m[1] ?? ''}`,
  },
  {
    name: 'legacy:will-reset-at',
    pattern: /usage limit reached\.?\s*Your limit will reset at\s+(.+)$/i,
    kind: () => 'unknown',
    reset: (m) => m[1] ?? null,
  },
  {
    name: 'banner:hit-your-limit',
    pattern: new RegExp(String.raw`You${APOS}ve hit your\s+((?:5-hour|session|weekly|opus(?: weekly)?|sonnet(?: weekly)?)\s+)?limit(?:${BULLET}(?:resets|try again)\s+(.+))?`, 'i'),
    kind: (m) => kindOf(m[1]),
    reset: (m) => m[2] ?? null,
  },
  {
    name: 'banner:out-of-extra-usage',
    pattern: new RegExp(String.raw`You${APOS}re out of extra usage(?:${BULLET}(?:resets|try again)\s+(.+))?`, 'i'),
    kind: () => 'extra_usage',
    reset: (m) => m[1] ?? null,
  },
  {
    name: 'banner:limit-reached',
    pattern: new RegExp(String.raw`\b((?:5-hour|session|weekly|opus(?: weekly)?|sonnet(?: weekly)?)\s+)limit reached${BULLET}(?:resets|try again)\s+(.+)`, 'i'),
    kind: (m) => kindOf(m[1]),
    reset: (m) => m[2] ?? null,
  },
  {
    name: 'banner:auto-continue',
    pattern: /(?:usage limit reached\s*[·∙-]\s*set to continue|continuing) automatically at\s+(.+)/i,
    kind: () => 'unknown',
    reset: (m) => m[1] ?? null,
  },
  {
    name: 'banner:usage-limit-resets',
    pattern: new RegExp(String.raw`usage limit reached${BULLET}(?:limit )?(?:resets|try again)\s+(.+)`, 'i'),
    kind: () => 'unknown',
    reset: (m) => m[1] ?? null,
  },
];

const WARNING_USED = new RegExp(String.raw`You${APOS}ve used\s+(\d{1,3})%\s+of your\s+(.*?)\s*limit(?:${BULLET}resets\s+(.+))?`, 'i');
const WARNING_APPROACHING = /Approaching\s+(.*?)\s*(?:usage\s+)?limit/i;

/**
 * Reads a usage-limit message in any of the forms Claude Code has printed. A warning
 * ("You've used 90%…", "Approaching…") never blocks; the last blocking banner wins.
 */
export function parseLimitText(input: string, options: LimitParseOptions): LimitParse {
  const lines = stripAnsi(input).split(/\r?\n/);
  let warning: LimitParse | null = null;
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] ?? '').replace(/^[\s⎿│>●⚠✗*]+/, '').trim();
    if (line === '') continue;
    const used = WARNING_USED.exec(line);
    if (used) {
      warning ??= {
        blocked: false,
        warning: { percent: Number(used[1]), kind: kindOf(used[2]), resetsAt: used[3] ? parseResetPhrase(used[3], options).resetsAt : null },
        rule: 'warning:used-percent',
      };
      continue;
    }
    if (/^Approaching\b/i.test(line)) {
      const approaching = WARNING_APPROACHING.exec(line);
      warning ??= { blocked: false, warning: { percent: 0, kind: kindOf(approaching?.[1]), resetsAt: null }, rule: 'warning:approaching' };
      continue;
    }
    for (const rule of BLOCKING) {
      const m = rule.pattern.exec(line);
      if (!m) continue;
      const phrase = rule.reset(m);
      if (phrase?.startsWith('@')) {
        const epoch = Number(phrase.slice(1));
        return { blocked: true, kind: 'unknown', resetsAt: new Date(epoch > 1e12 ? epoch : epoch * 1000), resetGuessed: false, text: line, rule: rule.name };
      }
      const reset = phrase === null ? { resetsAt: new Date(options.now.getTime() + (options.fallbackResetMs ?? 3600_000)), guessed: true, relative: false } : parseResetPhrase(phrase, options);
      return { blocked: true, kind: rule.kind(m), resetsAt: reset.resetsAt, resetGuessed: reset.guessed, text: line, rule: reset.relative ? `${rule.name}+relative` : rule.name };
    }
  }
  return warning ?? { blocked: false, rule: null };
}
