import type { ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, readlinkSync } from 'node:fs';
import { verifySharedLinks } from '../../src/accounts/shared-links.js';
import { daemonSocketPath } from '../../src/claude/self-command.js';
import type { Config } from '../../src/config/types.js';
import { sendRequest } from '../../src/monitor/control-socket.js';
import { openStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { exitOf, spawnCli } from '../helpers/cli.js';
import { tmux } from '../helpers/e2e.js';

/** The crash probes' machinery: `claude-failover run` as a child to SIGKILL, and what "whole" means after it. */

/** `claude-failover run` on a config file, its output appended to `log`. */
export function spawnDaemonProcess(configFile: string, log: string, env: Record<string, string> = {}): ChildProcess {
  const out = createWriteStream(log, { flags: 'a' });
  const child = spawnCli(['--config', configFile, 'run'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  return child;
}

/** SIGKILL, and wait until it is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await exitOf(child, 10_000);
}

/** Reads the state dir's store (the daemon writes it meanwhile: SQLite WAL lets both). */
export function withStore<T>(config: Config, read: (store: Store) => T): T {
  const store = openStore(config.stateDir);
  try {
    return read(store);
  } finally {
    store.close();
  }
}

/** Where an interrupted swap stood: its last journal step, or none open. */
export function openJournalStep(config: Config): string | null {
  return withStore(config, (store) => store.unfinishedJournal()?.steps.at(-1)?.step ?? (store.unfinishedJournal() ? 'opened' : null));
}

/**
 * The promise of invariant 6, checked from outside: the daemon answers, no swap is left
 * half done, the link names the active account's home, its shared links are right, and
 * every pool session runs (a live pane) on the active account. The active account, or false.
 */
export async function whole(config: Config, poolNames: readonly string[], options: { readonly idle?: boolean } = {}): Promise<string | false> {
  const answered = await sendRequest(daemonSocketPath(config), 'ping', null, { timeoutMs: 2000 }).catch(() => null);
  if (answered === null) return false;
  const state = withStore(config, (store) => ({ journal: store.unfinishedJournal(), active: store.getActiveAccount(), sessions: store.listSessions() }));
  if (state.journal) return false;
  const activeHome = config.accounts.find((a) => a.name === state.active)?.home;
  if (!activeHome || readlinkSync(config.link) !== activeHome) return false;
  if ((await verifySharedLinks(config, activeHome)).length > 0) return false;
  const sessions = state.sessions.filter((s) => poolNames.includes(s.name));
  if (sessions.length !== poolNames.length || !sessions.every((s) => s.account === state.active && (!options.idle || s.state === 'idle'))) return false;
  const panes = tmux(config.tmux.socket ?? '', 'list-panes', '-a', '-F', '#{session_name} #{pane_dead}');
  if (!poolNames.every((n) => panes.includes(`${n} 0`))) return false;
  return state.active ?? false;
}

/** A transcript's lines: every one a whole JSON record, the file ending on a newline (nothing cut). */
export function transcriptIsWhole(path: string): boolean {
  const text = readFileSync(path, 'utf8');
  if (text !== '' && !text.endsWith('\n')) return false;
  return text.split('\n').filter(Boolean).every((line) => {
    try {
      JSON.parse(line);
      return true;
    } catch {
      return false;
    }
  });
}
