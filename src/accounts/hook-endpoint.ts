import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config/types.js';
import { ensureStateDir } from '../store/state-dir.js';
import { tempPathFor } from '../temp-path.js';

/**
 * Where Claude Code's HTTP hooks go: the daemon's loopback listener (`POST <url>`), with the
 * hook token in the Authorization header. The token is made once, kept in the state dir
 * (0600) and written literally into each account's settings.json (see DESIGN.md, "hooks over
 * HTTP").
 */
export interface HookEndpoint {
  readonly url: string;
  readonly token: string;
}

export const HOOK_PATH = '/hooks';

export function hookTokenPath(stateDir: string): string {
  return join(stateDir, 'hook-token');
}

/** The base URL the running daemon's HTTP listener is bound to (written once it listens). */
export function listeningPath(stateDir: string): string {
  return join(stateDir, 'http-listening');
}

export function readHookToken(stateDir: string): string | null {
  try {
    const token = readFileSync(hookTokenPath(stateDir), 'utf8').trim();
    return /^[A-Za-z0-9_-]{32,}$/.test(token) ? token : null;
  } catch {
    return null;
  }
}

function writePrivate(path: string, text: string): void {
  ensureStateDir(dirname(path));
  const temp = tempPathFor(path);
  writeFileSync(temp, text, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

/** The hook token, made (random, 0600) the first time; the same one ever after. */
export function ensureHookToken(stateDir: string): string {
  const existing = readHookToken(stateDir);
  if (existing) return existing;
  const token = randomBytes(32).toString('base64url');
  writePrivate(hookTokenPath(stateDir), `${token}\n`);
  return readHookToken(stateDir) ?? token;
}

export function publishListening(stateDir: string, baseUrl: string): void {
  writePrivate(listeningPath(stateDir), `${baseUrl}\n`);
}

export function clearListening(stateDir: string): void {
  rmSync(listeningPath(stateDir), { force: true });
}

const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[?::1\]?)$/;
const ANY_HOST = /^(0\.0\.0\.0|\[?::\]?)$/;

/**
 * The base URL hooks can reach: the running daemon's bound address when it published one,
 * else `server.listen` when it names a fixed port. null when neither is known (port 0 and no
 * daemon) or the listener is on a non-loopback address (Claude Code refuses private
 * addresses for HTTP hooks; a wildcard listener is reached on 127.0.0.1).
 */
export function hookBaseUrl(config: Config): string | null {
  try {
    const published = readFileSync(listeningPath(config.stateDir), 'utf8').trim();
    if (/^http:\/\/(127\.0\.0\.1|\[::1\]):\d+$/.test(published)) return published;
  } catch {
    // no daemon listening (or never published)
  }
  const { host, port } = config.server;
  if (port === 0) return null;
  if (ANY_HOST.test(host)) return `http://127.0.0.1:${port}`;
  if (!LOOPBACK_HOST.test(host)) return null;
  if (host.includes(':')) return `http://[::1]:${port}`;
  return `http://${host === 'localhost' ? '127.0.0.1' : host}:${port}`;
}

/**
 * The endpoint to write into settings, or null (command hooks then). `create` makes the
 * token when there is none yet; without it (a dry run) an absent token reads as a
 * placeholder, so the dry run still shows HTTP hooks.
 */
export function resolveHookEndpoint(config: Config, options: { create: boolean }): HookEndpoint | null {
  const base = hookBaseUrl(config);
  if (!base) return null;
  const token = options.create ? ensureHookToken(config.stateDir) : (readHookToken(config.stateDir) ?? '<made at the first real run>');
  return { url: `${base}${HOOK_PATH}`, token };
}
