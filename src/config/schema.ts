import { z } from 'zod';

/** Names that reach tmux targets and shell command lines: nothing tmux or a shell would mangle. */
export const SAFE_NAME = /^[A-Za-z0-9_-]+$/;
const safeName = (what: string) =>
  z.string().min(1, `${what} must not be empty`).regex(SAFE_NAME, `${what} may contain only letters, digits, "_" and "-"`);

const pathString = z.string().min(1, 'must be a non-empty path');

const account = z.strictObject({
  name: safeName('an account name'),
  home: pathString,
});

const claude = z.strictObject({
  command: z.string().min(1).default('claude'),
  args: z.array(z.string()).default(['--dangerously-skip-permissions']),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'), z.string()).default({}),
  resumePrompt: z
    .string()
    .default(
      'Continue the task you were working on when the usage limit was reached; do not repeat work that is already complete.',
    ),
});

const autonomous = z.strictObject({
  prefix: safeName('a session prefix').default('ccl-auto-'),
  startIndex: z.number().int().min(0).default(10),
  min: z.number().int().min(0).default(0),
  max: z.number().int().min(0).max(1000).default(0),
  project: pathString.default('~'),
});

const dedicated = z.strictObject({
  name: safeName('a session name'),
  project: pathString,
});

const monitor = z.strictObject({
  pollIntervalMs: z.number().int().min(100).max(60_000).default(1000),
  cooldownMs: z.number().int().min(0).default(300_000),
  returnMarginMs: z.number().int().min(0).default(300_000),
  proactivePercent: z.number().min(1).max(100).nullable().default(null),
  /** How long a proactive switch waits for a moment when no pool session is mid-answer. */
  proactiveGraceMs: z.number().int().min(0).default(120_000),
  /** Used when a limit is seen but its reset time cannot be read: the reset is then a guess. */
  fallbackResetMs: z.number().int().min(60_000).default(60 * 60_000),
});

const telegram = z.strictObject({
  botToken: z.string().min(1),
  chatId: z.union([z.string().min(1), z.number()]).transform(String),
  apiBase: z.url().default('https://api.telegram.org'),
});

const webhook = z.union([
  z.url().transform((url) => ({ url, headers: {} })),
  z.strictObject({ url: z.url(), headers: z.record(z.string(), z.string()).default({}) }),
]);

const notify = z.strictObject({
  telegram: telegram.nullable().default(null),
  webhooks: z.array(webhook).default([]),
});

const server = z.strictObject({
  listen: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7420')
    .default('127.0.0.1:7420'),
  token: z.string().min(16, 'must be at least 16 characters').nullable().default(null),
});

export const rawConfigSchema = z.strictObject({
  home: pathString.default('~'),
  sharedDir: pathString.default('~/.claude-shared'),
  stateDir: pathString.nullable().default(null),
  accounts: z.array(account).min(1, 'at least one account is required'),
  claude: claude.default(claude.parse({})),
  tmux: z.strictObject({ socket: safeName('a tmux socket name').nullable().default(null) }).default({ socket: null }),
  pool: z
    .strictObject({
      autonomous: autonomous.default(autonomous.parse({})),
      dedicated: z.array(dedicated).default([]),
    })
    .default({ autonomous: autonomous.parse({}), dedicated: [] }),
  monitor: monitor.default(monitor.parse({})),
  notify: notify.default({ telegram: null, webhooks: [] }),
  server: server.default(server.parse({})),
});

export type RawConfig = z.infer<typeof rawConfigSchema>;

/** Every top-level and section key, for did-you-mean suggestions. */
export const KNOWN_KEYS: readonly string[] = [
  ...Object.keys(rawConfigSchema.shape),
  ...Object.keys(claude.shape),
  ...Object.keys(autonomous.shape),
  ...Object.keys(dedicated.shape),
  ...Object.keys(monitor.shape),
  ...Object.keys(telegram.shape),
  ...Object.keys(server.shape),
  'socket',
  'url',
  'headers',
  'name',
];
