import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { errnoCode } from '../errors.js';
import type { Config } from './types.js';
import { keysAt, rawConfigSchema, type RawConfig } from './schema.js';
import { didYouMean } from './did-you-mean.js';
import { defaultConfigFile, defaultStateDir, expandPath, type PathContext } from './paths.js';
import { checkConsistency } from './consistency.js';
import { locate, type FieldPath } from './locate.js';
import { rawAt, readFields, splitListen } from './fields.js';
import { defaultHostName } from './host-name.js';

export interface ConfigProblem {
  readonly path: FieldPath;
  readonly message: string;
  readonly line: number | null;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: Config }
  | { readonly ok: false; readonly file: string | null; readonly problems: readonly ConfigProblem[]; readonly report: string };

export function formatFieldPath(path: FieldPath): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out === '' ? '(top level)' : out;
}

function failure(file: string | null, problems: ConfigProblem[]): ConfigResult {
  const sorted = [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  const where = file ?? 'config';
  const lines = sorted.map((p) => `  ${where}${p.line !== null ? `:${p.line}` : ''}  ${formatFieldPath(p.path)}: ${p.message}`);
  const count = sorted.length === 1 ? '1 problem' : `${sorted.length} problems`;
  return { ok: false, file, problems: sorted, report: `${where}: ${count}\n${lines.join('\n')}` };
}

/** "a number", "an array": zod's type names as a sentence says them. */
function typeName(type: string): string {
  const name = type === 'int' ? 'whole number' : type === 'record' ? 'object' : type;
  return /^[aeio]/.test(name) ? `an ${name}` : `a ${name}`;
}

/** The type of a value as the YAML author sees it; never the value itself (it may be a secret). */
function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isInteger(value) ? 'a whole number' : 'a number with a fraction';
  return typeName(typeof value);
}

/** Turns zod's issues into messages: what was expected and what the file holds there. */
function zodProblems(issues: readonly z.core.$ZodIssue[], raw: unknown): { path: FieldPath; message: string }[] {
  const out: { path: FieldPath; message: string }[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const at = rawAt(raw, path);
    const wrongType = (expected: string) => {
      if (at.broken) return `expected ${expected}`;
      if (at.value === undefined) return 'is required';
      if (at.value === null) return `is empty (\`~\` and a missing value are YAML null); expected ${expected}`;
      return `expected ${expected}, got ${typeOf(at.value)}`;
    };
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(path);
      for (const key of issue.keys) {
        const guess = didYouMean(key, known);
        out.push({ path: [...path, key], message: `unknown key${guess ? `; did you mean "${guess}"?` : ''}` });
      }
    } else if (issue.code === 'invalid_type') {
      out.push({ path, message: wrongType(typeName(issue.expected)) });
    } else if (issue.code === 'invalid_union' && issue.errors.every((branch) => branch.length > 0 && branch.every((i) => i.code === 'invalid_type' && i.path.length === 0))) {
      // Every alternative failed on the type alone (chatId: true): name them all.
      const expected = [...new Set(issue.errors.flatMap((branch) => branch.map((i) => (i.code === 'invalid_type' ? typeName(i.expected) : ''))))];
      out.push({ path, message: wrongType(expected.join(' or ')) });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

/** Turns validated raw values into the resolved config: every path absolute. */
function resolvePaths(raw: RawConfig, file: string | null, ctx: PathContext): Config {
  // readFields has already expanded every path field and reported each unset variable,
  // so expansion succeeds here; a failure would keep the value as written.
  const path = (value: string): string => {
    const expanded = expandPath(value, ctx);
    return expanded.ok ? expanded.path : value;
  };
  const home = path(raw.home);
  const optionalPath = (value: string | null): string | null => (value === null ? null : path(value));
  const [host, port] = splitListen(raw.server.listen);
  return {
    file,
    home,
    link: join(home, '.claude'),
    sharedDir: path(raw.sharedDir),
    stateDir: raw.stateDir === null ? defaultStateDir(ctx.env) : path(raw.stateDir),
    accounts: raw.accounts.map((a) => ({ name: a.name, home: path(a.home) })),
    claude: { ...raw.claude, command: raw.claude.command.includes('/') ? path(raw.claude.command) : raw.claude.command },
    tmux: raw.tmux,
    pool: {
      autonomous: { ...raw.pool.autonomous, project: path(raw.pool.autonomous.project) },
      dedicated: raw.pool.dedicated.map((d) => ({ name: d.name, project: path(d.project) })),
    },
    monitor: raw.monitor,
    notify: raw.notify,
    server: { listen: raw.server.listen, host, port, token: raw.server.token },
    store: { shared: raw.store.shared && { ...raw.store.shared, tls: raw.store.shared.tls && { ...raw.store.shared.tls, ca: optionalPath(raw.store.shared.tls.ca), cert: optionalPath(raw.store.shared.tls.cert), key: optionalPath(raw.store.shared.tls.key) } } },
    fleet: { ...raw.fleet, host: raw.fleet.host ?? defaultHostName() },
  };
}

/** Validates an already-parsed object (the demo and tests build configs this way). */
export function configFromObject(raw: unknown, options: { baseDir: string; env?: NodeJS.ProcessEnv; file?: string | null }): ConfigResult {
  return validate(raw, options.file ?? null, { baseDir: options.baseDir, env: options.env ?? process.env }, () => null);
}

function validate(raw: unknown, file: string | null, ctx: PathContext, lineOf: (path: FieldPath) => number | null): ConfigResult {
  const input = raw ?? {};
  const parsed = rawConfigSchema.safeParse(input);
  // Report everything at once: each cross-field rule runs whenever the fields it reads are valid.
  const fields = readFields(input, ctx);
  const problems = [...(parsed.success ? [] : zodProblems(parsed.error.issues, input)), ...fields.problems, ...checkConsistency(fields.fields)];
  if (!parsed.success || problems.length > 0) return failure(file, problems.map((p) => ({ ...p, line: lineOf(p.path) })));
  return { ok: true, config: resolvePaths(parsed.data, file, ctx) };
}

function fileKind(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a file';
}

/**
 * The config's text, read only from a regular file (a link to one is one). Opened without
 * blocking and checked on the open descriptor: a FIFO would hold the read forever.
 */
function readConfigText(file: string): { ok: true; text: string } | { ok: false; message: string } {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = errnoCode(err);
    return { ok: false, message: code === 'ENOENT' ? 'no such file (write one: see the README, or pass --config FILE)' : `cannot be read (${code ?? String(err)})` };
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return { ok: false, message: `not a regular file (${fileKind(stats)}): give the path of a YAML file` };
    return { ok: true, text: readFileSync(fd, 'utf8') };
  } catch (err) {
    return { ok: false, message: `cannot be read (${errnoCode(err) ?? String(err)})` };
  } finally {
    closeSync(fd);
  }
}

/** Finds, reads and validates the config file, reporting every problem at once. */
export function loadConfig(options: { flag?: string | undefined; env?: NodeJS.ProcessEnv } = {}): ConfigResult {
  const env = options.env ?? process.env;
  const file = options.flag ? resolve(options.flag) : defaultConfigFile(env);
  const read = readConfigText(file);
  if (!read.ok) return failure(file, [{ path: [], message: read.message, line: null }]);
  const text = read.text;
  const lineCounter = new LineCounter();
  // prettyErrors would put the surrounding source text (a token, perhaps) into each message:
  // keep the plain message and take the line from the error's offset instead.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return failure(
      file,
      doc.errors.map((e) => ({
        path: [],
        message: `YAML syntax: ${e.message.split('\n')[0] ?? e.code}`,
        line: lineCounter.linePos(e.pos[0]).line,
      })),
    );
  }
  const lineOf = (path: FieldPath): number | null => {
    const offset = locate(doc, path);
    return offset === null ? null : lineCounter.linePos(offset).line;
  };
  return validate(doc.toJS(), file, { baseDir: dirname(file), env }, lineOf);
}
