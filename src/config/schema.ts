import { z } from 'zod';
import type { FieldPath } from './locate.js';

/** Names that reach tmux targets and shell command lines: nothing tmux or a shell would mangle. */
export const SAFE_NAME = /^[A-Za-z0-9_-]+$/;
const safeName = (what: string) =>
  z.string().min(1, `${what} must not be empty`).regex(SAFE_NAME, `${what} may contain only letters, digits, "_" and "-"`);

const pathString = z.string().min(1, 'must be a non-empty path');

/**
 * YAML's `~` and an empty value are null. For a key that has a default, null means that
 * default (`home: ~` is $HOME), as the README's example writes it.
 */
const orDefault = <T extends z.ZodType>(schema: T) => z.preprocess((value) => (value === null ? undefined : value), schema);

const account = z.strictObject({
  name: safeName('an account name'),
  home: pathString,
});

/** Typed into a session that was working when it was moved: Claude Code's own words for its automatic continue. */
export const DEFAULT_RESUME_PROMPT = 'Continue the task you were working on when the usage limit was reached; do not repeat work that is already complete.';

const claude = z.strictObject({
  command: orDefault(z.string().min(1).default('claude')),
  args: orDefault(z.array(z.string()).default(['--dangerously-skip-permissions'])),
  env: orDefault(z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'), z.string()).default({})),
  resumePrompt: orDefault(z.string().min(1, 'must not be empty').default(DEFAULT_RESUME_PROMPT)),
});

const autonomous = z.strictObject({
  prefix: orDefault(safeName('a session prefix').default('ccl-auto-')),
  startIndex: orDefault(z.number().int().min(0).default(10)),
  min: orDefault(z.number().int().min(0).default(0)),
  max: orDefault(z.number().int().min(0).max(1000).default(0)),
  project: orDefault(pathString.default('~')),
});

const dedicated = z.strictObject({
  name: safeName('a session name'),
  project: pathString,
});

const monitor = z.strictObject({
  pollIntervalMs: orDefault(z.number().int().min(100).max(60_000).default(1000)),
  cooldownMs: orDefault(z.number().int().min(0).default(300_000)),
  returnMarginMs: orDefault(z.number().int().min(0).default(300_000)),
  /** How long the return to the preferred account waits for no pool session to be mid-answer. */
  returnGraceMs: orDefault(z.number().int().min(0).default(900_000)),
  proactivePercent: z.number().min(1).max(100).nullable().default(null),
  /** How long a proactive switch waits for a moment when no pool session is mid-answer. */
  proactiveGraceMs: orDefault(z.number().int().min(0).default(120_000)),
  /** Used when a limit is seen but its reset time cannot be read: the reset is then a guess. */
  fallbackResetMs: orDefault(z.number().int().min(60_000).default(60 * 60_000)),
  /** A forecast of the active account hitting its limit within this long starts the proactive switch. */
  proactiveForecastMs: z.number().int().min(60_000).nullable().default(null),
  /** How often the usage of the accounts not in use is read from the usage endpoint (off when null). */
  usagePollMs: z.number().int().min(60_000).nullable().default(null),
});

const telegram = z.strictObject({
  botToken: z.string().min(1),
  chatId: z.union([z.string().min(1), z.number()]).transform(String),
  apiBase: orDefault(z.url().default('https://api.telegram.org')),
});

const webhook = z.union([
  z.url().transform((url) => ({ url, headers: {} })),
  z.strictObject({ url: z.url(), headers: orDefault(z.record(z.string(), z.string()).default({})) }),
]);

const notify = z.strictObject({
  telegram: telegram.nullable().default(null),
  webhooks: orDefault(z.array(webhook).default([])),
});

const server = z.strictObject({
  listen: orDefault(
    z
      .string()
      .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7420')
      .default('127.0.0.1:7420'),
  ),
  token: z.string().min(16, 'must be at least 16 characters').nullable().default(null),
});

/** TLS to the shared database: files are read when the daemon connects. */
const sharedTls = z.strictObject({
  ca: pathString.nullable().default(null),
  cert: pathString.nullable().default(null),
  key: pathString.nullable().default(null),
  rejectUnauthorized: orDefault(z.boolean().default(true)),
});

/**
 * The state of the accounts and the work (ledger, task queue, swap history, notification
 * de-duplication) in a database several hosts share. The URL may hold a password: no message
 * ever repeats it, so the rules below check its shape without echoing it.
 */
const sharedStore = z.strictObject({
  url: z
    .string()
    .min(1, 'must not be empty')
    .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a PostgreSQL URL, postgresql://user:password@host:port/database'),
  tls: sharedTls.nullable().default(null),
  poolSize: orDefault(z.number().int().min(2).max(100).default(10)),
  connectTimeoutMs: orDefault(z.number().int().min(100).max(60_000).default(5000)),
});

const store = z.strictObject({ shared: sharedStore.nullable().default(null) });

const fleet = z.strictObject({
  /** This host's name in the fleet (default: the machine's hostname). */
  host: safeName('a fleet host name').nullable().default(null),
  /** Prefer the account with the most headroom per host over the preferred one. */
  spread: orDefault(z.boolean().default(false)),
  /** How long a host's claim on a running task lasts without renewal (its death is noticed after this). */
  leaseMs: orDefault(z.number().int().min(1000).max(3_600_000).default(30_000)),
});

export const rawConfigSchema = z.strictObject({
  home: orDefault(pathString.default('~')),
  sharedDir: orDefault(pathString.default('~/.claude-shared')),
  stateDir: pathString.nullable().default(null),
  accounts: z.array(account).min(1, 'at least one account is required'),
  claude: orDefault(claude.default(claude.parse({}))),
  tmux: orDefault(z.strictObject({ socket: safeName('a tmux socket name').nullable().default(null) }).default({ socket: null })),
  pool: orDefault(
    z
      .strictObject({
        autonomous: orDefault(autonomous.default(autonomous.parse({}))),
        dedicated: orDefault(z.array(dedicated).default([])),
      })
      .default({ autonomous: autonomous.parse({}), dedicated: [] }),
  ),
  monitor: orDefault(monitor.default(monitor.parse({}))),
  notify: orDefault(notify.default({ telegram: null, webhooks: [] })),
  server: orDefault(server.default(server.parse({}))),
  store: orDefault(store.default({ shared: null })),
  fleet: orDefault(fleet.default(fleet.parse({}))),
});

export type RawConfig = z.infer<typeof rawConfigSchema>;

/** The schemas a value at `path` is checked against (several inside a union), wrappers kept. */
export function schemasAt(path: FieldPath): z.ZodType[] {
  let found: z.ZodType[] = [rawConfigSchema];
  for (const part of path) {
    found = found.flatMap(unwrap).flatMap((schema): z.ZodType[] => {
      if (schema instanceof z.ZodObject && typeof part === 'string') {
        const child = (schema.shape as Record<string, z.ZodType | undefined>)[part];
        return child ? [child] : [];
      }
      if (schema instanceof z.ZodArray && typeof part === 'number') return [schema.element as z.ZodType];
      if (schema instanceof z.ZodRecord && typeof part === 'string') return [schema.valueType as z.ZodType];
      return [];
    });
  }
  return found;
}

/** The keys valid in the object at `path`: did-you-mean suggests only among these. */
export function keysAt(path: FieldPath): string[] {
  const keys = schemasAt(path)
    .flatMap(unwrap)
    .flatMap((schema) => (schema instanceof z.ZodObject ? Object.keys(schema.shape) : []));
  return [...new Set(keys)];
}

/** The concrete schemas behind defaults, nullables, preprocessing and unions. */
function unwrap(schema: z.ZodType): z.ZodType[] {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodNullable || schema instanceof z.ZodOptional) return unwrap(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodPipe) return unwrap((schema.out instanceof z.ZodTransform ? schema.in : schema.out) as z.ZodType);
  if (schema instanceof z.ZodUnion) return (schema.options as readonly z.ZodType[]).flatMap(unwrap);
  return [schema];
}
