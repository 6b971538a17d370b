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
const DATE = String.raw`([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2})(?:,\s*(\d{4}))?`;
const ZONE = String.raw`(?:\s*\(([A-Za-z_]+(?:/[A-Za-z0-9_+-]+)*)\))?`;
// "Nov 26, 7:50pm", "Sep 15 at 7pm" (newer ICU), "Nov 26, 2027, 7pm", "9:51pm", and a bare
// date ("Aug 8": a spend limit renews on a day, not at an hour).
const ABSOLUTE = new RegExp(String.raw`^\s*(?:${DATE}(?:(?:,\s*|\s+at\s+|\s+)${TIME})?|${TIME})${ZONE}`, 'i');
const RELATIVE = /^\s*in\s+(?:(\d+)\s*(?:h|hr|hrs|hours?))?\s*(?:(\d+)\s*(?:m|min|mins|minutes?))?/i;

/** The reset named after "resets " / "reset at " / "try again ": absolute, relative, or unreadable. */
export function parseResetPhrase(phrase: string, options: LimitParseOptions): { resetsAt: Date; guessed: boolean; relative: boolean } {
  const fallback = () => ({ resetsAt: new Date(options.now.getTime() + (options.fallbackResetMs ?? 3600_000)), guessed: true, relative: false });
  const relative = RELATIVE.exec(phrase);
  if (relative && (relative[1] !== undefined || relative[2] !== undefined)) {
    const ms = (Number(relative[1] ?? 0) * 60 + Number(relative[2] ?? 0)) * 60_000;
    return { resetsAt: new Date(options.now.getTime() + ms), guessed: false, relative: true };
  }
  const m = ABSOLUTE.exec(phrase.replace(/^\s*at\s+/i, ''));
  if (!m) return fallback();
  const [, monthName, dayText, yearText, dateHour, dateMinute, dateAmpm, timeHour, timeMinute, timeAmpm, zoneText] = m;
  const hourText = dateHour ?? timeHour;
  const ampm = dateAmpm ?? timeAmpm;
  let hour = hourText === undefined ? 0 : Number(hourText) % 12;
  if (ampm?.toLowerCase() === 'p') hour += 12;
  const minute = Number((dateMinute ?? timeMinute) ?? 0);
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
  /** The limit the matched words name. */
  readonly kind: (m: RegExpExecArray) => LimitKind;
}

/** Money beyond the plan (extra usage, usage credits, spend caps) rather than a plan window. */
const SPEND = /spend|credit|extra usage|monthly usage|individual usage|budget|\$0|allocation|seat type|out of usage|usage is paused/i;
const spendOr = (kind: LimitKind) => (m: RegExpExecArray): LimitKind => (SPEND.test(m[0]) ? 'extra_usage' : kind);

/**
 * What a qualifier in "You've hit your <qualifier>" can be. "fast" is absent on purpose:
 * the fast-mode limit only turns fast mode off, the session goes on.
 */
const HIT_QUALIFIER = String.raw`(?:5-hour|session|weekly|opus(?: weekly)?|sonnet(?: weekly)?|fable(?: \d+)?|usage|(?:org|channel)${APOS}s monthly (?:spend|usage)|monthly spend|individual (?:spend|usage))`;
const REACHED_QUALIFIER = String.raw`(?:5-hour|session|weekly|opus(?: weekly)?|sonnet(?: weekly)?|usage)`;

// Ordered: the first rule that matches a line decides it.
const BLOCKING: readonly Rule[] = [
  { name: 'machine:epoch', pattern: /Claude AI usage limit reached\|(\d+)/i, kind: () => 'unknown' },
  { name: 'legacy:will-reset-at', pattern: /^Claude(?: AI)? usage limit reached\.?(?:\s*Your limit will reset at\s+.+)?$/i, kind: () => 'unknown' },
  {
    name: 'banner:hit-your-limit',
    pattern: new RegExp(String.raw`You${APOS}ve (?:hit|reached) your\s+(?:(${HIT_QUALIFIER})\s+)?limit\b|You${APOS}ve hit your team${APOS}s pooled group budget`, 'i'),
    kind: (m) => (SPEND.test(m[0]) ? 'extra_usage' : kindOf(m[1])),
  },
  { name: 'banner:out-of-extra-usage', pattern: new RegExp(String.raw`You${APOS}re out of (?:extra usage|usage credits)|Your org is out of usage`, 'i'), kind: () => 'extra_usage' },
  {
    name: 'banner:org-refusal',
    pattern: new RegExp(
      String.raw`^(?:Spending cap reached|Your seat type doesn${APOS}t include (?:extra usage|usage credits|usage)|Your usage allocation has been disabled|Your group${APOS}s usage limit is set to \$0|Usage is paused for your organization|(?:API Error:\s*(?:429\s*)?)?spend limit reached|Credit balance (?:is )?too low|(?:Fable|Haiku|Mythos|Opus|Sonnet)(?: [^·\n]{1,40})? requires usage credits\.)`,
      'i',
    ),
    kind: () => 'extra_usage',
  },
  { name: 'banner:admin-refusal', pattern: /^(?:This service is disabled for your org|Limit reached\s*[–-]\s*contact an admin)/i, kind: () => 'unknown' },
  {
    name: 'banner:auto-continue',
    pattern: /(?:usage limit reached(?: again)?\s*[·∙-]\s*set to continue|continuing) automatically (?:at\s|when (?:your|the) limit resets)/i,
    kind: () => 'unknown',
  },
  { name: 'banner:usage-limit-resets', pattern: new RegExp(String.raw`^Usage limit reached(?: again)?${BULLET}(?:limit |this limit )?resets`, 'i'), kind: () => 'unknown' },
  {
    name: 'banner:limit-reached',
    pattern: new RegExp(String.raw`^(?:API Error: 429 )?(${REACHED_QUALIFIER})\s+limit reached(?:\s*$|${BULLET})`, 'i'),
    kind: (m) => kindOf(m[1]),
  },
  // Team plans: "Weekly limit resets Dec 2, 7pm (Europe/Moscow) ∙ contact an admin to keep working".
  { name: 'banner:limit-resets-contact-admin', pattern: new RegExp(String.raw`^(${REACHED_QUALIFIER})\s+limit resets\s+.+${BULLET}contact an admin`, 'i'), kind: (m) => kindOf(m[1]) },
  { name: 'banner:goal-paused', pattern: /^Goal paused\s*[·∙]\s*(?:usage limit reached|usage is paused)/i, kind: spendOr('unknown') },
];

/**
 * Lines that look like limits but never block: the CLI keeps working (a grace window, a
 * fallback model, extra usage taking over) or the limit is not the account's.
 */
const NOT_BLOCKING = [
  /limit reached,\s*now using/i,
  /continuing with extra usage/i,
  /^Usage limit reached\s*[·∙]\s*(?:wrapping up|finishing up|a little extra|brief included)/i,
];

const RESET = /\b(?:resets|reset at|try again)\s+(.+)$/i;

/** The reset a blocking line names, searched after the words that made it a limit. */
function resetPhrase(line: string, m: RegExpExecArray): string | null {
  const epoch = /\|(\d+)/.exec(m[0]);
  if (epoch) return `@${epoch[1] ?? ''}`;
  const rest = line.slice(m.index + (m[0].startsWith('Claude') ? 0 : m[0].length));
  const auto = /automatically at\s+(.+)$/i.exec(rest) ?? /automatically at\s+(.+)$/i.exec(m[0] + rest);
  if (auto) return auto[1] ?? null;
  return RESET.exec(rest)?.[1] ?? (RESET.exec(line)?.[1] ?? null);
}

const WARNING_USED = new RegExp(String.raw`(?:You${APOS}ve used\s+(\d{1,3})%\s+of your|Over\s+(\d{1,3})%\s+of your)\s+(.*?)\s*(?:limit|usage credits|usage)(?:\s+used)?(?:${BULLET}resets\s+(.+))?`, 'i');
const WARNING_APPROACHING = /(?:Approaching|You['’]re close to your)\s+(.*?)\s*(?:usage\s+)?(?:limit|spending cap)/i;

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
        warning: { percent: Number(used[1] ?? used[2]), kind: kindOf(used[3]), resetsAt: used[4] ? parseResetPhrase(used[4], options).resetsAt : null },
        rule: 'warning:used-percent',
      };
      continue;
    }
    if (/^(?:Approaching|You['’]re close to)\b/i.test(line)) {
      const approaching = WARNING_APPROACHING.exec(line);
      warning ??= { blocked: false, warning: { percent: 0, kind: kindOf(approaching?.[1]), resetsAt: null }, rule: 'warning:approaching' };
      continue;
    }
    if (NOT_BLOCKING.some((p) => p.test(line))) continue;
    for (const rule of BLOCKING) {
      const m = rule.pattern.exec(line);
      if (!m) continue;
      const phrase = resetPhrase(line, m);
      const kind = rule.kind(m);
      if (phrase?.startsWith('@')) {
        // Versions before 1.0.x's later releases wrote "|0" when the reset header was missing.
        const epoch = Number(phrase.slice(1));
        if (epoch > 0) return { blocked: true, kind, resetsAt: new Date(epoch > 1e12 ? epoch : epoch * 1000), resetGuessed: false, text: line, rule: rule.name };
      }
      const reset = phrase === null || phrase.startsWith('@') ? { resetsAt: new Date(options.now.getTime() + (options.fallbackResetMs ?? 3600_000)), guessed: true, relative: false } : parseResetPhrase(phrase, options);
      return { blocked: true, kind, resetsAt: reset.resetsAt, resetGuessed: reset.guessed, text: line, rule: reset.relative ? `${rule.name}+relative` : rule.name };
    }
  }
  return warning ?? { blocked: false, rule: null };
}
