import { INSTALLED_MARK, type InstalledCommands } from './self-command.js';
import { HOOK_EVENTS, type ClaudeCapabilities, type HookEvent } from './claude-version.js';
import { shellJoin, shellQuote } from './shell-quote.js';

export { HOOK_EVENTS } from './claude-version.js';

/** At least this many days: Claude Code deletes older transcripts at start-up (default 30). */
export const CLEANUP_PERIOD_DAYS = 100_000;

/**
 * The header that carries the pane id (`$TMUX_PANE`, interpolated by Claude Code) in our
 * HTTP hooks; its presence is also what marks an HTTP hook entry as ours.
 */
export const PANE_HEADER = 'X-Claude-Failover-Pane';
/** The environment variable our HTTP hooks may interpolate (nothing else). */
export const PANE_ENV = 'TMUX_PANE';
/** Seconds Claude Code waits for the daemon's answer to one HTTP hook. */
export const HTTP_HOOK_TIMEOUT_S = 2;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isOurCommand(command: unknown): boolean {
  return typeof command === 'string' && command.includes(INSTALLED_MARK);
}

/** One hook entry we installed: a command carrying the mark, or an HTTP hook with our pane header. */
export function isOurHook(hook: unknown): boolean {
  if (!isObject(hook)) return false;
  if (hook.type === 'http') return isObject(hook.headers) && Object.keys(hook.headers).some((k) => k.toLowerCase() === PANE_HEADER.toLowerCase());
  return isOurCommand(hook.command);
}

/** Drops our earlier hook entries from one event's matcher groups, keeping every user hook. */
function withoutOurs(groups: unknown): unknown[] {
  if (!Array.isArray(groups)) return [];
  const kept: unknown[] = [];
  for (const group of groups) {
    if (!isObject(group) || !Array.isArray(group.hooks)) {
      kept.push(group);
      continue;
    }
    const hooks = group.hooks.filter((h: unknown) => !isOurHook(h));
    if (hooks.length > 0) kept.push({ ...group, hooks });
  }
  return kept;
}

/** Every hook entry of one event, flattened out of its matcher groups. */
export function hookEntries(settings: Json, event: string): Json[] {
  const groups = isObject(settings.hooks) ? settings.hooks[event] : undefined;
  if (!Array.isArray(groups)) return [];
  return groups.flatMap((g: unknown) => (isObject(g) && Array.isArray(g.hooks) ? g.hooks.filter(isObject) : []));
}

/** The statusline command the user had before ours, if any (ours carries the mark). */
export function userStatusLine(settings: Json): string | null {
  const line = settings.statusLine;
  if (!isObject(line) || typeof line.command !== 'string' || line.command === '') return null;
  if (!isOurCommand(line.command)) return line.command;
  const chained = /--chain ('(?:[^']|'\\'')*'|\S+)/.exec(line.command)?.[1];
  if (!chained) return null;
  return chained.startsWith("'") ? chained.slice(1, -1).replaceAll(`'\\''`, "'") : chained;
}

export interface MergeOptions {
  /** The pool launches with --dangerously-skip-permissions: skip the dialog it would show. */
  readonly skipBypassPrompt: boolean;
  /** What the installed Claude Code accepts. */
  readonly claude: ClaudeCapabilities;
  /** The daemon's hook listener; null writes command hooks. */
  readonly endpoint: { readonly url: string; readonly token: string } | null;
  /** The statusline as a bash script posting to the listener (no Node); null keeps the Node relay. */
  readonly statusLineScript?: { readonly bash: string; readonly script: string; readonly baseUrl: string } | null;
}

function ourHook(event: HookEvent, commands: InstalledCommands, options: MergeOptions): Json {
  const { claude, endpoint } = options;
  if (endpoint && claude.httpHooks && !claude.commandOnlyEvents.includes(event)) {
    return {
      type: 'http',
      url: endpoint.url,
      headers: { Authorization: `Bearer ${endpoint.token}`, [PANE_HEADER]: `$${PANE_ENV}` },
      allowedEnvVars: [PANE_ENV],
      timeout: HTTP_HOOK_TIMEOUT_S,
    };
  }
  return { type: 'command', command: commands.hookCommand(event) };
}

/** Adds `value` to a list the user set (an allow-list that would otherwise leave it out); no list, no change. */
function allowIn(out: Json, key: string, value: string): void {
  const list = out[key];
  if (Array.isArray(list) && !list.includes(value)) out[key] = [...(list as unknown[]), value];
}

/**
 * settings.json with our hooks and statusline installed, as the installed Claude Code
 * accepts them: every key and hook the user wrote is kept, our earlier entries are replaced
 * (an event the version does not know loses ours: 2.0.x skips the whole file for one),
 * a user statusline is chained. Idempotent.
 */
export function mergeSettings(settings: Json, commands: InstalledCommands, options: MergeOptions): Json {
  const out: Json = { ...settings };
  const days = typeof settings.cleanupPeriodDays === 'number' ? settings.cleanupPeriodDays : 0;
  out.cleanupPeriodDays = Math.max(days, CLEANUP_PERIOD_DAYS);
  if (options.skipBypassPrompt && options.claude.bypassKey !== 'claude-json') out.skipDangerousModePermissionPrompt = true;
  // Ours go from every event (one this version does not know must not stay); emptied events go.
  const hooks: Json = Object.fromEntries(
    Object.entries(isObject(settings.hooks) ? settings.hooks : {})
      .map(([event, groups]): [string, unknown] => [event, Array.isArray(groups) ? withoutOurs(groups) : groups])
      .filter(([, groups]) => !Array.isArray(groups) || groups.length > 0),
  );
  let http = false;
  for (const event of options.claude.hookEvents) {
    const hook = ourHook(event, commands, options);
    http ||= hook.type === 'http';
    hooks[event] = [...withoutOurs(hooks[event]), { matcher: '', hooks: [hook] }];
  }
  if (Object.keys(hooks).length > 0 || isObject(settings.hooks)) out.hooks = hooks;
  if (http && options.endpoint) {
    allowIn(out, 'httpHookAllowedEnvVars', PANE_ENV);
    allowIn(out, 'allowedHttpHookUrls', options.endpoint.url);
  }
  const previous = isObject(settings.statusLine) ? settings.statusLine : {};
  const chain = userStatusLine(settings);
  const script = options.statusLineScript;
  const command = script
    ? `${shellJoin([script.bash, script.script, script.baseUrl])}${chain ? ` --chain ${shellQuote(chain)}` : ''} ${INSTALLED_MARK}`
    : commands.statusLineCommand(chain);
  out.statusLine = { ...previous, type: 'command', command };
  return out;
}

/**
 * `.claude.json` with onboarding done and each project folder trusted, so a launch never
 * stops at a dialog; with `bypassAccepted`, the key older versions read to skip the
 * bypass-permissions dialog.
 */
export function seedClaudeJson(current: Json, trustedProjects: readonly string[], options: { bypassAccepted?: boolean } = {}): Json {
  const out: Json = { ...current, hasCompletedOnboarding: true };
  if (out.theme === undefined) out.theme = 'dark';
  if (options.bypassAccepted) out.bypassPermissionsModeAccepted = true;
  const projects: Json = isObject(current.projects) ? { ...current.projects } : {};
  for (const project of trustedProjects) {
    const entry = isObject(projects[project]) ? projects[project] : {};
    projects[project] = { ...entry, hasTrustDialogAccepted: true };
  }
  out.projects = projects;
  return out;
}

export interface SettingsFinding {
  readonly status: 'ok' | 'warn' | 'fail';
  readonly message: string;
}

/**
 * What doctor says of one account's settings against the installed version: what would
 * make it reject the file, a missing bypass key, and which kind of hooks are in place.
 */
export function checkSettings(settings: Json, claudeJson: Json, claude: ClaudeCapabilities, options: { skipBypassPrompt: boolean }): SettingsFinding[] {
  const findings: SettingsFinding[] = [];
  const version = claude.version ? `Claude Code ${claude.version.text}` : 'Claude Code (version unknown)';
  const events = isObject(settings.hooks) ? Object.keys(settings.hooks) : [];
  for (const event of HOOK_EVENTS) {
    if (events.includes(event) && !claude.hookEvents.includes(event) && claude.version) {
      findings.push({ status: 'fail', message: `a ${event} hook, which ${version} does not know: it rejects the whole settings.json` });
    }
  }
  const allEntries = events.flatMap((event) => hookEntries(settings, event).map((entry) => ({ event, entry })));
  if (!claude.httpHooks && allEntries.some(({ entry }) => entry.type === 'http')) {
    findings.push(
      claude.version
        ? { status: 'fail', message: `an HTTP hook ("type": "http"), which ${version} does not accept: it rejects the whole settings.json` }
        : { status: 'warn', message: 'an HTTP hook ("type": "http"): versions before 2.1.63 reject the whole settings.json for one' },
    );
  }
  if (options.skipBypassPrompt) {
    const inSettings = settings.skipDangerousModePermissionPrompt === true;
    const inJson = claudeJson.bypassPermissionsModeAccepted === true;
    const ok = claude.bypassKey === 'settings' ? inSettings : claude.bypassKey === 'claude-json' ? inJson : inSettings || inJson;
    if (!ok) {
      const key = claude.bypassKey === 'claude-json' ? '.claude.json bypassPermissionsModeAccepted' : 'settings.json skipDangerousModePermissionPrompt';
      findings.push({ status: 'fail', message: `${key} is not set: ${version} stops every --dangerously-skip-permissions launch at its bypass dialog` });
    }
  }
  const ours = claude.hookEvents.map((event) => ({ event, hook: hookEntries(settings, event).find(isOurHook) }));
  const missing = ours.filter((o) => !o.hook).map((o) => o.event);
  if (missing.length > 0) findings.push({ status: 'warn', message: `the daemon's ${missing.join(', ')} hook(s) are not installed` });
  const overCommand = ours.filter((o) => o.hook?.type === 'command' && !claude.commandOnlyEvents.includes(o.event)).map((o) => o.event);
  if (claude.httpHooks && overCommand.length > 0) {
    findings.push({ status: 'ok', message: `${overCommand.join(', ')} hook(s) run as commands (a process per event); ${version} could take them over HTTP once the daemon listens on a loopback port` });
  }
  return findings;
}
