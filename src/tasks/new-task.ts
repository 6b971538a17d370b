import { statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Config } from '../config/types.js';
import { SAFE_NAME } from '../config/schema.js';
import type { NewTask, TaskMode } from '../store/task-queue.js';

/** Longest prompt taken (characters): a task is typed into a session, not uploaded. */
export const MAX_PROMPT_LENGTH = 256 * 1024;
/** Most retries a task may ask for. */
export const MAX_RETRIES = 100;
/** Longest timeout: a week (a timer longer than about 24 days cannot be set in Node). */
export const MAX_TIMEOUT_MS = 7 * 24 * 3600_000;

const UNIT_MS = { d: 24 * 3600_000, h: 3600_000, m: 60_000, s: 1000, ms: 1 } as const;

/**
 * A duration as people write it, largest unit first: `30s`, `10m`, `2h`, `1h30m`, `1d`,
 * `1500ms`. Milliseconds, or null when `text` is not one (a bare number has no unit).
 */
export function parseDuration(text: string): number | null {
  const match = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text.trim());
  if (!match || text.trim() === '') return null;
  const [, d, h, m, s, ms] = match;
  const parts: [string | undefined, number][] = [[d, UNIT_MS.d], [h, UNIT_MS.h], [m, UNIT_MS.m], [s, UNIT_MS.s], [ms, UNIT_MS.ms]];
  let total = 0;
  for (const [digits, unit] of parts) if (digits !== undefined) total += Number(digits) * unit;
  return Number.isSafeInteger(total) ? total : null;
}

/** A task as a person asks for it, over the CLI (strings) or HTTP (JSON values): checked by `checkNewTask`. */
export interface TaskFields {
  readonly prompt?: unknown;
  /** The project dir; relative only where `TaskRules.baseDir` says against what. */
  readonly cwd?: unknown;
  /** A dedicated session's name. */
  readonly session?: unknown;
  /** An integer, higher first. */
  readonly priority?: unknown;
  /** A duration string (`10m`), or a number of milliseconds. */
  readonly timeout?: unknown;
  /** Attempts after the first. */
  readonly retries?: unknown;
  readonly mode?: unknown;
}

export const TASK_FIELDS: readonly (keyof TaskFields)[] = ['prompt', 'cwd', 'session', 'priority', 'timeout', 'retries', 'mode'];

export interface TaskRules {
  /** The sessions a task may name: the config's dedicated sessions. */
  readonly dedicated: readonly string[];
  /** A relative cwd is taken from here (the CLI: the caller's cwd); absent, cwd must be absolute. */
  readonly baseDir?: string;
  /** How fields are named in errors: CLI options (`--cwd`) or JSON fields (`cwd`). */
  readonly naming: 'cli' | 'json';
  /**
   * The queue is the fleet's (`store.shared`): a cwd need not exist on this host (the task
   * runs only where it does), and a session need not be one of this host's (it runs on the
   * host that has it).
   */
  readonly fleet?: boolean;
}

export type CheckedTask = { readonly ok: true; readonly task: NewTask } | { readonly ok: false; readonly error: string };

/** What a task may name as its session. */
export function taskRulesOf(config: Config): Pick<TaskRules, 'dedicated' | 'fleet'> {
  return { dedicated: config.pool.dedicated.map((d) => d.name), fleet: config.store.shared !== null };
}

const CLI_NAMES: Record<keyof TaskFields, string> = {
  prompt: 'the prompt',
  cwd: '--cwd',
  session: '--session',
  priority: '--priority',
  timeout: '--timeout',
  retries: '--retries',
  mode: '--fresh/--continue',
};

/** An integer from a JSON number or a string of digits; null when it is neither. */
function integerOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value === 'string' && /^[+-]?\d{1,15}$/.test(value.trim())) return Number(value.trim());
  return null;
}

const shown = (value: unknown): string => {
  const text = JSON.stringify(value) as string | undefined;
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/**
 * The one check of a new task, for the CLI and HTTP alike: a non-empty prompt, an existing
 * directory as cwd (made absolute), a dedicated session of the config, an integer priority,
 * a positive timeout, a retry count, a mode. Every problem is named, not just the first.
 */
export function checkNewTask(fields: TaskFields, rules: TaskRules): CheckedTask {
  const name = (field: keyof TaskFields): string => (rules.naming === 'cli' ? CLI_NAMES[field] : field);
  const errors: string[] = [];
  const given = (v: unknown): boolean => v !== undefined && v !== null;

  let prompt = '';
  if (typeof fields.prompt !== 'string') errors.push(given(fields.prompt) ? `${name('prompt')} must be a string` : `${name('prompt')} is missing`);
  else if (fields.prompt.trim() === '') errors.push(`${name('prompt')} is empty`);
  else if (fields.prompt.length > MAX_PROMPT_LENGTH) errors.push(`${name('prompt')} is ${fields.prompt.length} characters long: at most ${MAX_PROMPT_LENGTH} are taken`);
  else if (fields.prompt.includes('\0')) errors.push(`${name('prompt')} contains a NUL character`);
  else prompt = fields.prompt;

  let cwd: string | null = null;
  if (given(fields.cwd)) {
    if (typeof fields.cwd !== 'string' || fields.cwd.trim() === '') errors.push(`${name('cwd')} must be a directory's path`);
    else if (!isAbsolute(fields.cwd) && rules.baseDir === undefined) errors.push(`${name('cwd')} must be an absolute path, not ${shown(fields.cwd)}`);
    else {
      const dir = resolve(rules.baseDir ?? '/', fields.cwd);
      const info = statSync(dir, { throwIfNoEntry: false });
      if (!info && rules.fleet === true) cwd = dir;
      else if (!info) errors.push(`${name('cwd')} ${dir} does not exist`);
      else if (!info.isDirectory()) errors.push(`${name('cwd')} ${dir} is not a directory`);
      else cwd = dir;
    }
  }

  let target: string | null = null;
  if (given(fields.session)) {
    const has = rules.dedicated.length > 0 ? `the config's dedicated sessions are ${rules.dedicated.join(', ')}` : 'the config has no dedicated sessions (pool.dedicated)';
    if (typeof fields.session !== 'string') errors.push(`${name('session')} must be a session's name; ${has}`);
    else if (rules.fleet === true && SAFE_NAME.test(fields.session)) target = fields.session;
    else if (!rules.dedicated.includes(fields.session)) errors.push(`${name('session')} ${shown(fields.session)} is not a dedicated session: ${has}`);
    else target = fields.session;
  }

  let priority: number | undefined;
  if (given(fields.priority)) {
    const n = integerOf(fields.priority);
    if (n === null) errors.push(`${name('priority')} must be an integer, not ${shown(fields.priority)}`);
    else priority = n;
  }

  let timeoutMs: number | null = null;
  if (given(fields.timeout)) {
    const ms = typeof fields.timeout === 'number' ? (Number.isSafeInteger(fields.timeout) ? fields.timeout : null) : typeof fields.timeout === 'string' ? parseDuration(fields.timeout) : null;
    const form = rules.naming === 'cli' ? 'a duration like 30s, 10m, 2h or 1h30m' : 'milliseconds or a duration like 30s, 10m, 2h or 1h30m';
    if (ms === null) errors.push(`${name('timeout')} must be ${form}, not ${shown(fields.timeout)}`);
    else if (ms <= 0) errors.push(`${name('timeout')} must be more than zero`);
    else if (ms > MAX_TIMEOUT_MS) errors.push(`${name('timeout')} must be at most a week (7d)`);
    else timeoutMs = ms;
  }

  let maxAttempts: number | undefined;
  if (given(fields.retries)) {
    const n = integerOf(fields.retries);
    if (n === null || n < 0 || n > MAX_RETRIES) errors.push(`${name('retries')} must be an integer from 0 to ${MAX_RETRIES}, not ${shown(fields.retries)}`);
    else maxAttempts = n + 1;
  }

  let mode: TaskMode = 'fresh';
  if (given(fields.mode)) {
    if (fields.mode === 'fresh' || fields.mode === 'continue') mode = fields.mode;
    else errors.push(`${name('mode')} must be "fresh" or "continue", not ${shown(fields.mode)}`);
  }

  if (errors.length > 0) return { ok: false, error: errors.join('; ') };
  return {
    ok: true,
    task: { prompt, cwd, target, mode, timeoutMs, ...(priority === undefined ? {} : { priority }), ...(maxAttempts === undefined ? {} : { maxAttempts }) },
  };
}
