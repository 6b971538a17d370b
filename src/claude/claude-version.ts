import { execFile } from 'node:child_process';

/**
 * Which Claude Code is installed, and what its settings may hold. Settings written for one
 * version can stop another: 2.0.77 rejects a hook event it does not know (or a hook `type`
 * it does not know) and then skips the whole settings.json behind a blocking dialog. So
 * nothing is written that the installed version does not accept.
 */

export interface ClaudeVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly text: string;
}

/** The hook events the daemon listens to, in the order they are written. */
export const HOOK_EVENTS = ['SessionStart', 'UserPromptSubmit', 'Stop', 'StopFailure'] as const;
export type HookEvent = (typeof HOOK_EVENTS)[number];

/**
 * Where each capability starts. Read from the real packages (the JavaScript bundle or the
 * native binary: the settings schema and the hook-event list are inside) and the CLI's own
 * changelog; the versions checked are in DESIGN.md.
 */
const SINCE = {
  /** Hooks were released in 1.0.38 (absent from 1.0.24's settings). */
  Stop: [1, 0, 38],
  UserPromptSubmit: [1, 0, 54],
  SessionStart: [1, 0, 62],
  /** Absent from 2.1.50, present in 2.1.150; the changelog gives 2.1.78. */
  StopFailure: [2, 1, 78],
  /**
   * `"type": "http"` hooks with `headers` and `allowedEnvVars` (headers interpolating an
   * allowed environment variable). HTTP hooks came in 2.1.63; the oldest package seen with
   * `headers` + `allowedEnvVars` in its schema is 2.1.150, and an unknown key or type in a
   * hook makes 2.0.x reject the whole file, so the threshold is the version verified.
   */
  httpHooks: [2, 1, 150],
  /** settings.json `skipDangerousModePermissionPrompt` (2.1.50 has it and migrates the old key to it). */
  skipPromptInSettings: [2, 1, 50],
  /** Before this, only `.claude.json` `bypassPermissionsModeAccepted` is read (2.0.77, the last 2.0, observed). */
  skipPromptUnknownBefore: [2, 0, 78],
} as const satisfies Record<string, readonly [number, number, number]>;

export interface ClaudeCapabilities {
  /** null when `--version` did not run or did not parse: the most compatible settings are written. */
  readonly version: ClaudeVersion | null;
  /** The hook events this version accepts in settings.json (of the ones the daemon uses). */
  readonly hookEvents: readonly HookEvent[];
  /** `"type": "http"` hooks with headers that interpolate allowed environment variables. */
  readonly httpHooks: boolean;
  /** Hook events that never go over HTTP (the CLI skips HTTP hooks for them): SessionStart. */
  readonly commandOnlyEvents: readonly HookEvent[];
  /** Which key(s) skip the bypass-permissions dialog: settings.json, the account's .claude.json, or both when unsure. */
  readonly bypassKey: 'settings' | 'claude-json' | 'both';
  /** Said to the person when the version is unknown or older than every hook the daemon uses. */
  readonly warnings: readonly string[];
}

export function parseClaudeVersion(output: string): ClaudeVersion | null {
  const m = /(?:^|\s|v)(\d+)\.(\d+)\.(\d+)(?![\d.])/.exec(output.trim());
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text: `${m[1]}.${m[2]}.${m[3]}` };
}

function atLeast(v: ClaudeVersion, [major, minor, patch]: readonly [number, number, number]): boolean {
  if (v.major !== major) return v.major > major;
  if (v.minor !== minor) return v.minor > minor;
  return v.patch >= patch;
}

export function capabilitiesOf(version: ClaudeVersion | null, why = 'its version is unknown'): ClaudeCapabilities {
  if (!version) {
    return {
      version: null,
      // Every version since 1.0.62 accepts these three; StopFailure would stop an older one.
      hookEvents: ['SessionStart', 'UserPromptSubmit', 'Stop'],
      httpHooks: false,
      commandOnlyEvents: ['SessionStart'],
      bypassKey: 'both',
      warnings: [`Claude Code: ${why}; writing the most compatible settings (command hooks, no StopFailure, both bypass-dialog keys)`],
    };
  }
  const hookEvents = HOOK_EVENTS.filter((event) => atLeast(version, SINCE[event]));
  // Between the two observed versions, both keys: each is harmless to the other kind.
  const bypassKey = atLeast(version, SINCE.skipPromptInSettings) ? 'settings' : atLeast(version, SINCE.skipPromptUnknownBefore) ? 'both' : 'claude-json';
  const warnings = hookEvents.length === 0 ? [`Claude Code ${version.text} has no hooks the daemon uses; limits are found from transcripts and screens only`] : [];
  return { version, hookEvents, httpHooks: atLeast(version, SINCE.httpHooks), commandOnlyEvents: ['SessionStart'], bypassKey, warnings };
}

const cache = new Map<string, { readonly asked: number; readonly found: Promise<ClaudeCapabilities> }>();

/** After this, the next call asks again in the background (Claude Code updates itself). */
const REASK_AFTER_MS = 10 * 60_000;

/** Runs `<command> --version` (5 s at most). Resolves its first line, or null with why. */
function runVersion(command: string, env: Readonly<Record<string, string>>, timeoutMs: number): Promise<{ output: string | null; why: string }> {
  return new Promise((resolve) => {
    try {
      execFile(command, ['--version'], { timeout: timeoutMs, env: { ...process.env, ...env } }, (err, stdout) => {
        if (err) resolve({ output: null, why: `\`${command} --version\` failed (${err.message.split('\n')[0] ?? ''})` });
        else resolve({ output: stdout, why: `\`${command} --version\` printed ${JSON.stringify(stdout.trim().slice(0, 80))}` });
      });
    } catch (err) {
      resolve({ output: null, why: `\`${command} --version\` could not start (${err instanceof Error ? err.message : String(err)})` });
    }
  });
}

/**
 * The installed version's capabilities, asked once per command (and env). An answer older
 * than ten minutes is still given (a swap never waits for `--version`), while the version is
 * asked again for the next call: an update of Claude Code is followed within one call.
 */
export function claudeCapabilities(command: string, options: { env?: Readonly<Record<string, string>>; timeoutMs?: number; now?: () => number } = {}): Promise<ClaudeCapabilities> {
  const env = options.env ?? {};
  const now = options.now ?? Date.now;
  const key = JSON.stringify([command, env]);
  const ask = () => {
    const found = runVersion(command, env, options.timeoutMs ?? 5000).then(({ output, why }) => capabilitiesOf(output === null ? null : parseClaudeVersion(output), why));
    cache.set(key, { asked: now(), found });
    return found;
  };
  const known = cache.get(key);
  if (!known) return ask();
  if (now() - known.asked > REASK_AFTER_MS) {
    const fresh = ask();
    // The newer answer replaces the older only once it is there; until then the older stands.
    cache.set(key, { asked: now(), found: known.found });
    void fresh.then(() => cache.set(key, { asked: now(), found: fresh }));
  }
  return known.found;
}

/** Forgets what was learnt (after an upgrade, or in tests). */
export function forgetClaudeVersions(): void {
  cache.clear();
}
