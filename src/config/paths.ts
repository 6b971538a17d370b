import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

export interface PathContext {
  /** Directory relative paths resolve against (the config file's directory). */
  readonly baseDir: string;
  readonly env: NodeJS.ProcessEnv;
}

/** Expands `~`, `$VAR` and `${VAR}`; an unset variable is an error the caller reports. */
export function expandPath(raw: string, ctx: PathContext): { ok: true; path: string } | { ok: false; missing: string } {
  const unset: string[] = [];
  const home = ctx.env.HOME ?? homedir();
  let value = raw.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const found = ctx.env[name];
    if (found === undefined || found === '') {
      unset.push(name);
      return '';
    }
    return found;
  });
  const missing = unset[0];
  if (missing !== undefined) return { ok: false, missing };
  if (value === '~') value = home;
  else if (value.startsWith('~/')) value = join(home, value.slice(2));
  return { ok: true, path: isAbsolute(value) ? resolve(value) : resolve(ctx.baseDir, value) };
}

/** True when `inner` is `outer` itself or lies below it. */
export function isSameOrInside(inner: string, outer: string): boolean {
  const a = resolve(inner);
  const b = resolve(outer);
  return a === b || a.startsWith(b.endsWith('/') ? b : `${b}/`);
}

/** Where the config is looked for when no --config is given. */
export function defaultConfigFile(env: NodeJS.ProcessEnv): string {
  if (env.CLAUDE_FAILOVER_CONFIG) return resolve(env.CLAUDE_FAILOVER_CONFIG);
  const xdg = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(xdg, 'claude-failover', 'config.yaml');
}

export function defaultStateDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(env.HOME ?? homedir(), '.local', 'state');
  return join(xdg, 'claude-failover');
}
