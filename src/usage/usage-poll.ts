import { readRegularFile } from '../regular-file.js';
import { join } from 'node:path';
import { z } from 'zod';
import type { Account, Config } from '../config/types.js';
import type { Logger } from '../log.js';
import { oneAtATime } from '../periodic.js';
import type { Store, UsageWindow } from '../store/store.js';

/** Where Claude Code reads an account's usage for its usage screen (2.1.330). */
export const USAGE_PATH = '/api/oauth/usage';
export const DEFAULT_API_BASE = 'https://api.anthropic.com';
/** The beta header Claude Code sends with an OAuth bearer token. */
const OAUTH_BETA = 'oauth-2025-04-20';
const TIMEOUT_MS = 5000;
/** A token this close to its expiry is not used: it could expire on the way. */
const EXPIRY_MARGIN_MS = 60_000;

/** The OAuth login in an account home's `.credentials.json`: only what the poll needs. */
const credentialsFile = z.object({
  claudeAiOauth: z.object({ accessToken: z.string().min(1), expiresAt: z.number() }),
});

/** One window of the usage endpoint's answer: `utilization` is a percentage (0–100), `resets_at` ISO 8601. */
const usageWindow = z.object({ utilization: z.number().nullable(), resets_at: z.string().nullable().optional() }).nullish();
const usageAnswer = z.object({ five_hour: usageWindow, seven_day: usageWindow });

export interface WindowUsage {
  readonly window: UsageWindow;
  readonly percent: number;
  readonly resetsAt: Date | null;
}

export type UsageRead =
  | { readonly ok: true; readonly windows: readonly WindowUsage[] }
  | { readonly ok: false; readonly reason: 'no-login' | 'expired' | 'refused' | 'unreachable' | 'unreadable'; readonly detail: string };

/** The API base Claude Code talks to for these accounts: `claude.env.ANTHROPIC_BASE_URL`, else Anthropic's. */
export function usageUrl(config: Config): string {
  const base = config.claude.env.ANTHROPIC_BASE_URL ?? DEFAULT_API_BASE;
  return base.replace(/\/+$/, '') + USAGE_PATH;
}

/**
 * Reads an account's usage as Claude Code's usage screen does: its access token, only while
 * unexpired, as a bearer to the usage endpoint. Read-only: the credentials file is only read,
 * a token is never refreshed, and neither the token nor the answer's other fields go anywhere.
 */
export async function readAccountUsage(account: Account, options: { url: string; now: Date; fetch?: typeof fetch; timeoutMs?: number }): Promise<UsageRead> {
  let token: string;
  try {
    const login = credentialsFile.safeParse(JSON.parse((await readRegularFile(join(account.home, '.credentials.json'))) ?? 'null'));
    if (!login.success) return { ok: false, reason: 'no-login', detail: 'no OAuth login in .credentials.json' };
    if (login.data.claudeAiOauth.expiresAt <= options.now.getTime() + EXPIRY_MARGIN_MS) return { ok: false, reason: 'expired', detail: 'the access token has expired; Claude Code refreshes it at its next use' };
    token = login.data.claudeAiOauth.accessToken;
  } catch (err) {
    return { ok: false, reason: 'no-login', detail: `.credentials.json unreadable (${err instanceof Error && 'code' in err ? String(err.code) : 'not JSON'})` };
  }
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(options.url, {
      headers: { Authorization: `Bearer ${token}`, 'anthropic-beta': OAUTH_BETA, 'Content-Type': 'application/json', 'User-Agent': 'claude-failover' },
      // The token goes to this URL only, never where a redirect points.
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs ?? TIMEOUT_MS),
    });
  } catch (err) {
    return { ok: false, reason: 'unreachable', detail: err instanceof Error ? err.name : 'fetch failed' };
  }
  if (!response.ok) {
    await response.body?.cancel();
    return { ok: false, reason: 'refused', detail: `HTTP ${String(response.status)}` };
  }
  let answer: z.infer<typeof usageAnswer>;
  try {
    const parsed = usageAnswer.safeParse(await response.json());
    if (!parsed.success) return { ok: false, reason: 'unreadable', detail: 'the answer has no usage windows' };
    answer = parsed.data;
  } catch {
    return { ok: false, reason: 'unreadable', detail: 'the answer is not JSON' };
  }
  const windows: WindowUsage[] = [];
  for (const window of ['five_hour', 'seven_day'] as const) {
    const w = answer[window];
    if (w?.utilization == null) continue;
    const resetsAt = w.resets_at ? new Date(w.resets_at) : null;
    windows.push({ window, percent: w.utilization, resetsAt: resetsAt && !Number.isNaN(resetsAt.getTime()) ? resetsAt : null });
  }
  return { ok: true, windows };
}

export interface UsagePollDeps {
  readonly config: Config;
  readonly store: Store;
  readonly logger: Logger;
  readonly now: () => Date;
  /** The account in use: its usage comes from the statusline, not from here. */
  readonly activeAccount: () => string | null;
  readonly fetch?: typeof fetch;
}

/**
 * One pass: the usage of every account not in use, recorded like the statusline's (a reading
 * per window, the ledger's latest the window closest to its limit). Returns what each gave.
 */
export async function pollUsageOnce(deps: UsagePollDeps): Promise<Map<string, UsageRead>> {
  const url = usageUrl(deps.config);
  const results = new Map<string, UsageRead>();
  for (const account of deps.config.accounts) {
    if (account.name === deps.activeAccount()) continue;
    const read = await readAccountUsage(account, { url, now: deps.now(), ...(deps.fetch ? { fetch: deps.fetch } : {}) });
    results.set(account.name, read);
    if (!read.ok) {
      deps.logger.debug({ account: account.name, reason: read.reason, detail: read.detail }, 'usage not read');
      continue;
    }
    let binding: WindowUsage | null = null;
    for (const w of read.windows) {
      deps.store.addUsageReading({ account: account.name, window: w.window, percent: w.percent, resetsAt: w.resetsAt, source: 'poll' });
      if (!binding || w.percent > binding.percent) binding = w;
    }
    if (binding) deps.store.recordUsage(account.name, { percent: binding.percent, kind: binding.window, resetsAt: binding.resetsAt });
  }
  return results;
}

/** `monitor.usagePollMs`: a pass now and every that long; `stop()` resolves once no pass runs. */
export function startUsagePoll(deps: UsagePollDeps & { readonly everyMs: number }): { stop(): Promise<void> } {
  let stopped = false;
  const pass = oneAtATime(async () => {
    try {
      await pollUsageOnce(deps);
    } catch (err) {
      deps.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'usage poll failed');
    }
  });
  const timer = setInterval(() => void (stopped ? undefined : pass.run()), deps.everyMs);
  void pass.run();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await pass.running();
    },
  };
}
