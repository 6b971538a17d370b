import { stripAnsi } from './ansi.js';
import { parseLimitText, type LimitParse } from './limit-text.js';

export type ScreenState = 'idle' | 'working' | 'limited' | 'trust-dialog' | 'bypass-dialog' | 'login-needed' | 'shell' | 'unknown';

export interface ScreenClassification {
  readonly state: ScreenState;
  readonly limit?: Extract<LimitParse, { blocked: true }>;
  readonly rule: string;
}

export interface ScreenOptions {
  readonly now: Date;
  readonly timeZone?: string;
  /** How many non-empty lines from the bottom describe the current state (default 12). */
  readonly bottomLines?: number;
}

const RESUME_HINT = /claude\s+(?:--resume|-r)\s+([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/i;
const PROMPT_LINE = /^\s*[❯>][\u00a0 ]/;
const EMPTY_PROMPT = /^\s*[❯>][\u00a0 ]*$/;
const RULE_LINE = /^\s*─{3,}/;
const SPINNER = /^\s*[✽✻✶✢✳·*⏺]\s+\S+…/;
const LOGIN = /(?:Please run \/login|Invalid API key|OAuth token revoked|OAuth token has expired|API Error: 401|Not logged in|Select login method)/i;
const LIMIT_MENU = /What do you want to do\?/;
const LIMIT_MENU_OPTION = /Stop and wait for limit to reset/;
/** What Claude Code prints by itself as it opens the menu: not something the person or Claude did. */
const MENU_OPENING = /^\s*(?:[❯>][\u00a0 ]*\/rate-limit-options\s*$|Opening your options)/;

/**
 * Whether the pane shows Claude Code's rate-limit options menu ("What do you want to do?").
 * Claude Code opens it by itself when a limit message is drawn, also one in the history of a
 * resumed conversation (2.0.x does so on every resume); it takes the keyboard until Escape.
 */
export function limitMenuOpen(capture: string): boolean {
  const bottom = stripAnsi(capture).split('\n').filter((l) => l.trim() !== '').slice(-12).join('\n');
  return LIMIT_MENU.test(bottom) && LIMIT_MENU_OPTION.test(bottom);
}

/** The uuid in Claude Code's exit hint (`claude --resume <uuid>`), the last resort for a session id. */
export function extractResumeHint(capture: string): string | null {
  const lines = stripAnsi(capture).split('\n').reverse();
  for (const line of lines) {
    const m = RESUME_HINT.exec(line);
    if (m?.[1]) return m[1];
  }
  return null;
}

/**
 * What a Claude Code pane is doing, read from its bottom lines only: a banner in the
 * scrollback above later activity is history, not a limit.
 */
export function classifyScreen(capture: string, options: ScreenOptions): ScreenClassification {
  const all = stripAnsi(capture)
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .filter((l) => l.trim() !== '');
  const bottom = all.slice(-(options.bottomLines ?? 12));
  const text = bottom.join('\n');
  const hasBox = bottom.some((l) => EMPTY_PROMPT.test(l) || PROMPT_LINE.test(l)) && bottom.some((l) => RULE_LINE.test(l));

  if (/Quick safety check|Do you trust the files in this folder/i.test(text)) return { state: 'trust-dialog', rule: 'trust-dialog' };
  if (/Bypass Permissions mode/i.test(text) && /Yes, I accept/i.test(text)) return { state: 'bypass-dialog', rule: 'bypass-dialog' };
  if (/Resume this session with:/.test(text) || (RESUME_HINT.test(bottom.at(-1) ?? '') && !hasBox)) return { state: 'shell', rule: 'shell:resume-hint' };
  const last = bottom.at(-1) ?? '';
  if (!hasBox && /[$#%]\s*$/.test(last) && !/[❯─]/.test(text)) return { state: 'shell', rule: 'shell:prompt' };
  if (LOGIN.test(text)) return { state: 'login-needed', rule: 'login-needed' };
  if (/esc to interrupt/i.test(text) || bottom.some((l) => SPINNER.test(l) && !/Usage limit/i.test(l))) return { state: 'working', rule: 'working:spinner' };

  // The rate-limit menu over the conversation: a limit only when the banner above it is the
  // latest thing in the conversation; one reopened over history (2.0.x, on resume) is a dialog
  // over an idle session.
  const menuAt = bottom.findIndex((l) => LIMIT_MENU.test(l));
  if (menuAt >= 0 && LIMIT_MENU_OPTION.test(text)) {
    const limit = standingBanner(bottom.slice(0, menuAt), options);
    return limit ? { state: 'limited', rule: 'limited:menu', limit } : { state: 'idle', rule: 'menu' };
  }
  const limit = standingBanner(bottom, options);
  if (limit) return { state: 'limited', rule: `limited:${limit.rule}`, limit };
  if (hasBox && bottom.some((l) => EMPTY_PROMPT.test(l) || PROMPT_LINE.test(l))) return { state: 'idle', rule: 'idle:prompt-box' };
  return { state: 'unknown', rule: 'unknown' };
}

/** The limit banner nothing the person or Claude did came after, if any. */
function standingBanner(lines: readonly string[], options: ScreenOptions): Extract<LimitParse, { blocked: true }> | null {
  let lastBanner = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (parseLimitText(lines[i] ?? '', options).blocked) {
      lastBanner = i;
      break;
    }
  }
  if (lastBanner < 0) return null;
  const after = lines.slice(lastBanner + 1).filter((l) => !MENU_OPENING.test(l));
  const laterActivity = after.some((l) => (PROMPT_LINE.test(l) && !EMPTY_PROMPT.test(l)) || (/^\s*●\s/.test(l) && !/Usage limit reached/i.test(l)));
  if (laterActivity) return null;
  // Footers repeat the reset without saying which limit: prefer the banner that names it.
  const banners = lines
    .slice(0, lastBanner + 1)
    .map((l) => parseLimitText(l, options))
    .filter((p): p is Extract<LimitParse, { blocked: true }> => p.blocked);
  return banners.filter((b) => b.kind !== 'unknown').at(-1) ?? banners.at(-1) ?? null;
}
