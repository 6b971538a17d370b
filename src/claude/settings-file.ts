import { INSTALLED_MARK, type InstalledCommands } from '../cli/self-command.js';

/** The hook events the daemon listens to. */
export const HOOK_EVENTS = ['SessionStart', 'UserPromptSubmit', 'Stop', 'StopFailure'] as const;

/** At least this many days: Claude Code deletes older transcripts at start-up (default 30). */
export const CLEANUP_PERIOD_DAYS = 100_000;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isOurs(command: unknown): boolean {
  return typeof command === 'string' && command.includes(INSTALLED_MARK);
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
    const hooks = group.hooks.filter((h: unknown) => !(isObject(h) && isOurs(h.command)));
    if (hooks.length > 0) kept.push({ ...group, hooks });
  }
  return kept;
}

/** The statusline command the user had before ours, if any (ours carries the mark). */
export function userStatusLine(settings: Json): string | null {
  const line = settings.statusLine;
  if (!isObject(line) || typeof line.command !== 'string' || line.command === '') return null;
  if (!isOurs(line.command)) return line.command;
  const chained = /--chain ('(?:[^']|'\\'')*'|\S+)/.exec(line.command)?.[1];
  if (!chained) return null;
  return chained.startsWith("'") ? chained.slice(1, -1).replaceAll(`'\\''`, "'") : chained;
}

/**
 * settings.json with our hooks and statusline installed: every key and hook the user wrote
 * is kept, our earlier entries are replaced, a user statusline is chained. Idempotent.
 */
export function mergeSettings(settings: Json, commands: InstalledCommands, options: { skipBypassPrompt: boolean }): Json {
  const out: Json = { ...settings };
  const days = typeof settings.cleanupPeriodDays === 'number' ? settings.cleanupPeriodDays : 0;
  out.cleanupPeriodDays = Math.max(days, CLEANUP_PERIOD_DAYS);
  if (options.skipBypassPrompt) out.skipDangerousModePermissionPrompt = true;
  const hooks: Json = isObject(settings.hooks) ? { ...settings.hooks } : {};
  for (const event of HOOK_EVENTS) {
    hooks[event] = [...withoutOurs(hooks[event]), { matcher: '', hooks: [{ type: 'command', command: commands.hookCommand(event) }] }];
  }
  out.hooks = hooks;
  const previous = isObject(settings.statusLine) ? settings.statusLine : {};
  out.statusLine = { ...previous, type: 'command', command: commands.statusLineCommand(userStatusLine(settings)) };
  return out;
}

/** `.claude.json` with onboarding done and each project folder trusted, so a launch never stops at a dialog. */
export function seedClaudeJson(current: Json, trustedProjects: readonly string[]): Json {
  const out: Json = { ...current, hasCompletedOnboarding: true };
  if (out.theme === undefined) out.theme = 'dark';
  const projects: Json = isObject(current.projects) ? { ...current.projects } : {};
  for (const project of trustedProjects) {
    const entry = isObject(projects[project]) ? projects[project] : {};
    projects[project] = { ...entry, hasTrustDialogAccepted: true };
  }
  out.projects = projects;
  return out;
}
