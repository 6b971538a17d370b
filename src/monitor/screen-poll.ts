import type { TmuxClient } from '../tmux/client.js';
import { classifyScreen, type ScreenClassification } from '../claude/screen-state.js';
import type { SessionStates } from '../sessions/session-states.js';
import type { ReopenedMenu } from './reopened-menu.js';

export interface PolledPane {
  readonly paneId: string;
  readonly dead: boolean;
  /** When its window last had output (epoch seconds), if tmux said. */
  readonly activity?: number | null;
}

/** A blocking limit a screen shows for a session that has worked since its launch. */
export interface ScreenLimit {
  readonly session: string;
  readonly limit: NonNullable<ScreenClassification['limit']>;
}

/** What one poll found: limits to act on, and rate-limit menus reopened over old limits. */
export interface ScreenFindings {
  readonly limits: ScreenLimit[];
  /**
   * Sessions showing the rate-limit menu over an old limit: Claude Code (2.0.x) opens it by
   * itself when a resumed conversation shows one (after a turn, when it was busy), and it
   * holds the keyboard until Escape. Not a limit: the pane it is in.
   */
  readonly reopenedMenus: ReopenedMenu[];
}

/** The input line: `❯` (2.1.x) or `>` inside a box (older versions), then what is typed. */
const RULE = /^\s*[─╭]/;
const INPUT_LINE = /^\s*(?:│\s*)?[❯>][\s\u00a0](.*?)\s*│?\s*$/;

/**
 * The last input line on screen holds text: the frame was drawn before Claude Code took the
 * prompt typed there (it sends UserPromptSubmit before it redraws). A limit that prompt met
 * would leave the input line empty under its banner: banners above it are older.
 */
export function promptPending(capture: string): boolean {
  const lines = capture.split('\n');
  for (let i = lines.length - 1; i > 0; i--) {
    // The input line sits right under a rule (or a box's top): a menu's `❯ 1. …` does not.
    const match = RULE.test(lines[i - 1] ?? '') ? INPUT_LINE.exec(lines[i] ?? '') : null;
    if (match) return (match[1] ?? '').replace(/\u00a0/g, ' ').trim() !== '';
  }
  return false;
}

/** A menu reported once is given this long to close before it is reported again. */
const MENU_REPORT_EVERY_MS = 3000;

interface SeenScreen {
  readonly capture: string;
  readonly screen: ScreenClassification;
  readonly activity: number | null;
  readonly readAtSecond: number;
  /** The launch it was read in: a relaunch makes it history. */
  readonly launch: number;
}

/**
 * The fallback signal: the bottom of every live pool pane, read in one tmux call, and only
 * the screens that had output since they were last read. Reports what each screen shows as
 * session transitions and returns the blocking limits it saw.
 */
export class ScreenPoll {
  private readonly lastScreens = new Map<string, SeenScreen>();
  /** The registry's version when a poll last went through every pane; null before the first. */
  private registryVersionPolled: number | null = null;
  /** When a session's reopened menu was last reported, and in which launch. */
  private readonly menusReported = new Map<string, { launch: number; at: number }>();
  private readonly tmux: TmuxClient;
  private readonly sessions: SessionStates;

  constructor(tmux: TmuxClient, sessions: SessionStates) {
    this.tmux = tmux;
    this.sessions = sessions;
  }

  async poll(panes: ReadonlyMap<string, PolledPane>, now: Date): Promise<ScreenFindings> {
    const live = [...panes.entries()].filter(([, p]) => !p.dead);
    const findings: ScreenFindings = { limits: [], reopenedMenus: [] };
    if (live.length === 0) return findings;
    const current = (name: string) => {
      const seen = this.lastScreens.get(name);
      return seen?.launch === this.sessions.launchNumber(name) ? seen : undefined;
    };
    // A screen whose window has had no output since it was read is as it was: not read again.
    // tmux counts activity in whole seconds (its own clock, this host's): a screen read in the
    // second of its last output is read once more.
    const unchanged = (name: string, activity: number | null | undefined): boolean => {
      const seen = current(name);
      return seen !== undefined && activity != null && seen.activity === activity && seen.readAtSecond > activity;
    };
    const skipped = new Set(live.filter(([name, p]) => unchanged(name, p.activity)).map(([name]) => name));
    const toRead = live.filter(([name]) => !skipped.has(name));
    // No screen to read and no registry write since the last full pass: that pass's
    // conclusions stand for every pane, so the registry is not even read (an idle pool).
    if (toRead.length === 0 && this.sessions.version() === this.registryVersionPolled) return findings;
    const readAtSecond = Math.floor(Date.now() / 1000);
    const captures = toRead.length > 0 ? await this.tmux.captureMany(toRead.map(([, p]) => p.paneId), 15) : new Map<string, string>();
    // One registry read per poll, not one per pane.
    const registry = new Map(this.sessions.list().map((s) => [s.name, s]));
    for (const [name, pane] of live) {
      const cached = current(name);
      const skip = skipped.has(name);
      const capture = skip ? cached?.capture : captures.get(pane.paneId);
      if (capture === undefined) continue;
      // Most ticks, most screens are as they were (an idle prompt): the last reading stands.
      // A limit screen is read again each time: its reset is resolved against the clock.
      const screen = cached?.capture === capture ? cached.screen : classifyScreen(capture, { now });
      if (screen.state === 'limited') this.lastScreens.delete(name);
      else this.lastScreens.set(name, { capture, screen, activity: pane.activity ?? null, readAtSecond: skip && cached ? cached.readAtSecond : readAtSecond, launch: this.sessions.launchNumber(name) });
      const stored = registry.get(name) ?? null;
      if (screen.state === 'working') {
        this.sessions.seenWorking(name);
      } else if (screen.state === 'idle') {
        this.sessions.seenIdle(name, stored);
      } else if (screen.state === 'limited' && screen.limit?.blocked && this.sessions.hasWorkedSinceLaunch(name) && !promptPending(capture)) {
        // A resumed conversation shows its old banners: only a session seen working since its launch is news,
        // and not while the prompt just submitted still sits in the input line (its hook came before the redraw).
        findings.limits.push({ session: name, limit: screen.limit });
      }
      // The menu over a limit this launch hit stays (the swap relaunches the session); one
      // reopened over history, or over a limit from before this launch, is closed.
      const reopened = screen.rule === 'menu' || (screen.rule === 'limited:menu' && !this.sessions.hasWorkedSinceLaunch(name));
      if (reopened && this.menuIsNews(name, now)) findings.reopenedMenus.push({ session: name, paneId: pane.paneId, launch: this.sessions.launchNumber(name) });
    }
    this.registryVersionPolled = this.sessions.version();
    return findings;
  }

  private menuIsNews(name: string, now: Date): boolean {
    const launch = this.sessions.launchNumber(name);
    const last = this.menusReported.get(name);
    if (last?.launch === launch && now.getTime() - last.at < MENU_REPORT_EVERY_MS) return false;
    this.menusReported.set(name, { launch, at: now.getTime() });
    return true;
  }
}
