import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { errnoCode } from '../errors.js';
import type { Config } from './types.js';
import { KNOWN_KEYS, rawConfigSchema, type RawConfig } from './schema.js';
import { didYouMean } from './did-you-mean.js';
import { defaultConfigFile, defaultStateDir, expandPath, type PathContext } from './paths.js';
import { checkConsistency } from './consistency.js';
import { locate, type FieldPath } from './locate.js';

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

function zodProblems(issues: readonly z.core.$ZodIssue[]): { path: FieldPath; message: string }[] {
  const out: { path: FieldPath; message: string }[] = [];
  for (const issue of issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const guess = didYouMean(key, KNOWN_KEYS);
        out.push({ path: [...path, key], message: `unknown key${guess ? `; did you mean "${guess}"?` : ''}` });
      }
    } else if (issue.code === 'invalid_type' && issue.input === undefined) {
      out.push({ path, message: 'is required' });
    } else {
      out.push({ path, message: issue.message });
    }
  }
  return out;
}

/** Turns validated raw values into the resolved config: every path absolute. */
function resolvePaths(raw: RawConfig, file: string | null, ctx: PathContext): { config?: Config; problems: { path: FieldPath; message: string }[] } {
  const problems: { path: FieldPath; message: string }[] = [];
  const path = (value: string, at: FieldPath): string => {
    const expanded = expandPath(value, ctx);
    if (expanded.ok) return expanded.path;
    problems.push({ path: at, message: `uses $${expanded.missing}, which is not set` });
    return value;
  };
  const home = path(raw.home, ['home']);
  const [host, port] = splitListen(raw.server.listen);
  const config: Config = {
    file,
    home,
    link: join(home, '.claude'),
    sharedDir: path(raw.sharedDir, ['sharedDir']),
    stateDir: raw.stateDir === null ? defaultStateDir(ctx.env) : path(raw.stateDir, ['stateDir']),
    accounts: raw.accounts.map((a, i) => ({ name: a.name, home: path(a.home, ['accounts', i, 'home']) })),
    claude: {
      ...raw.claude,
      command: raw.claude.command.includes('/') ? path(raw.claude.command, ['claude', 'command']) : raw.claude.command,
    },
    tmux: raw.tmux,
    pool: {
      autonomous: { ...raw.pool.autonomous, project: path(raw.pool.autonomous.project, ['pool', 'autonomous', 'project']) },
      dedicated: raw.pool.dedicated.map((d, i) => ({ name: d.name, project: path(d.project, ['pool', 'dedicated', i, 'project']) })),
    },
    monitor: raw.monitor,
    notify: raw.notify,
    server: { listen: raw.server.listen, host, port, token: raw.server.token },
  };
  return { config, problems };
}

function consistencyOfValidSections(raw: unknown, file: string | null, ctx: PathContext): { path: FieldPath; message: string }[] {
  const input = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const shape = rawConfigSchema.shape;
  const valid = new Set<string>();
  const sections: Record<string, unknown> = {};
  for (const key of Object.keys(shape) as (keyof typeof shape)[]) {
    const section = shape[key].safeParse(input[key]);
    if (section.success) valid.add(key);
    sections[key] = section.success ? section.data : key === 'accounts' ? [] : shape[key].safeParse(undefined).data;
  }
  const resolved = resolvePaths(sections as RawConfig, file, ctx);
  if (!resolved.config) return [];
  return checkConsistency(resolved.config).filter((p) => typeof p.path[0] === 'string' && valid.has(p.path[0]));
}

export function splitListen(listen: string): [string, number] {
  const at = listen.lastIndexOf(':');
  const host = listen.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return [host, Number(listen.slice(at + 1))];
}

/** Validates an already-parsed object (the demo and tests build configs this way). */
export function configFromObject(raw: unknown, options: { baseDir: string; env?: NodeJS.ProcessEnv; file?: string | null }): ConfigResult {
  return validate(raw, options.file ?? null, { baseDir: options.baseDir, env: options.env ?? process.env }, () => null);
}

function validate(raw: unknown, file: string | null, ctx: PathContext, lineOf: (path: FieldPath) => number | null): ConfigResult {
  const withLines = (ps: { path: FieldPath; message: string }[]): ConfigProblem[] => ps.map((p) => ({ ...p, line: lineOf(p.path) }));
  const parsed = rawConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    // Report everything at once: the cross-field rules still run over the sections that are valid.
    return failure(file, withLines([...zodProblems(parsed.error.issues), ...consistencyOfValidSections(raw, file, ctx)]));
  }
  const resolved = resolvePaths(parsed.data, file, ctx);
  const problems = [...resolved.problems];
  if (resolved.config) problems.push(...checkConsistency(resolved.config));
  if (problems.length > 0 || !resolved.config) return failure(file, withLines(problems));
  return { ok: true, config: resolved.config };
}

/** Finds, reads and validates the config file, reporting every problem at once. */
export function loadConfig(options: { flag?: string | undefined; env?: NodeJS.ProcessEnv } = {}): ConfigResult {
  const env = options.env ?? process.env;
  const file = options.flag ? resolve(options.flag) : defaultConfigFile(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const why = errnoCode(err) === 'ENOENT' ? 'no such file (write one: see the README, or pass --config FILE)' : `cannot be read (${errnoCode(err) ?? String(err)})`;
    return failure(file, [{ path: [], message: why, line: null }]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return failure(
      file,
      doc.errors.map((e) => ({
        path: [],
        message: `YAML syntax: ${e.message.split('\n')[0] ?? e.code}`,
        line: e.linePos?.[0].line ?? null,
      })),
    );
  }
  const lineOf = (path: FieldPath): number | null => {
    const offset = locate(doc, path);
    return offset === null ? null : lineCounter.linePos(offset).line;
  };
  return validate(doc.toJS(), file, { baseDir: dirname(file), env }, lineOf);
}
