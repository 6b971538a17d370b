/** The resolved configuration: every path absolute, every default filled in. */
export interface Account {
  readonly name: string;
  /** Absolute path of the account home (its own credentials and .claude.json). */
  readonly home: string;
}

export interface DedicatedSession {
  readonly name: string;
  readonly project: string;
}

export interface TelegramConfig {
  readonly botToken: string;
  readonly chatId: string;
  readonly apiBase: string;
}

export interface WebhookConfig {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** `store.shared`: the database the fleet's hosts share (PostgreSQL). Its URL may hold a password. */
export interface SharedStoreConfig {
  readonly url: string;
  readonly tls: { readonly ca: string | null; readonly cert: string | null; readonly key: string | null; readonly rejectUnauthorized: boolean } | null;
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
}

export interface Config {
  /** The file this came from, or null for an in-memory config (the demo, tests). */
  readonly file: string | null;
  /** Directory holding the `.claude` link. */
  readonly home: string;
  /** `<home>/.claude`: the link to the active account's home. */
  readonly link: string;
  readonly sharedDir: string;
  readonly stateDir: string;
  /** Priority order: the first is the preferred account. */
  readonly accounts: readonly Account[];
  readonly claude: {
    readonly command: string;
    readonly args: readonly string[];
    readonly env: Readonly<Record<string, string>>;
    readonly resumePrompt: string;
  };
  readonly tmux: { readonly socket: string | null };
  readonly pool: {
    readonly autonomous: {
      readonly prefix: string;
      readonly startIndex: number;
      readonly min: number;
      readonly max: number;
      readonly project: string;
    };
    readonly dedicated: readonly DedicatedSession[];
  };
  readonly monitor: {
    readonly pollIntervalMs: number;
    readonly cooldownMs: number;
    readonly returnMarginMs: number;
    readonly returnGraceMs: number;
    readonly proactivePercent: number | null;
    readonly proactiveGraceMs: number;
    readonly fallbackResetMs: number;
    readonly proactiveForecastMs: number | null;
    readonly usagePollMs: number | null;
  };
  readonly notify: {
    readonly telegram: TelegramConfig | null;
    readonly webhooks: readonly WebhookConfig[];
  };
  readonly server: {
    readonly listen: string;
    readonly host: string;
    readonly port: number;
    readonly token: string | null;
  };
  /** Where the accounts' and the work's state lives: null is this host's own SQLite. */
  readonly store: { readonly shared: SharedStoreConfig | null };
  readonly fleet: {
    /** This host's name among the hosts sharing `store.shared`. */
    readonly host: string;
    readonly spread: boolean;
    readonly leaseMs: number;
  };
}
