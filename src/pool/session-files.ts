import { readRegularFile } from '../regular-file.js';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePayload, sessionFile } from '../claude/payloads.js';

/** What `<home>/sessions/<pid>.json` says about a running Claude Code session. */
export interface RunningSessionFile {
  readonly pid: number;
  readonly sessionId: string;
  readonly cwd: string | null;
  readonly status: 'busy' | 'idle' | null;
  /** The tmux pane id (`%12`) from its `tmux` field, when it runs in tmux. */
  readonly paneId: string | null;
}

/** A file read before, with what identified that version of it. */
interface KnownFile {
  readonly ino: bigint;
  readonly size: bigint;
  readonly mtimeNs: bigint;
  /** null: not a session file (no sessionId, or not JSON). */
  readonly session: RunningSessionFile | null;
}

/**
 * A file changed this recently may be rewritten within the same filesystem timestamp tick
 * (coarse on Linux, 1–2 s on some filesystems) with the same size ("busy" and "idle" are the
 * same length), so its stat would not show the change: it is read again until it settles.
 */
const SETTLED_MS = 2000;

/** A sessions dir is listed and stat'd at least this often, watched or not: the safety net. */
const FULL_SCAN_MS = 60_000;

/** What the last scan of a sessions dir found, and whether anything there changed since. */
interface DirState {
  /** null: the dir could not be watched (not there yet): that read scans. */
  watcher: FSWatcher | null;
  /** An event came after the last scan began, or a file was still settling. */
  dirty: boolean;
  scannedAt: number;
  sessions: RunningSessionFile[];
}

/**
 * Reads the session files of account homes. A file is read again only when its stat (inode,
 * size, mtime) changed, and a watched dir is not even listed again until fs.watch reports a
 * change there (or a minute has passed): an idle pool costs no file access at all.
 */
export class SessionFileReader {
  /** By sessions dir, then by file name: only the files the last readdir listed. */
  private readonly known = new Map<string, Map<string, KnownFile>>();
  private readonly dirs = new Map<string, DirState>();
  private scanCount = 0;

  /** How many times a sessions dir has been listed and stat'd. */
  get scans(): number {
    return this.scanCount;
  }

  /** Every session file of an account home; unreadable or malformed ones are skipped. */
  async read(accountHome: string): Promise<RunningSessionFile[]> {
    const dir = join(accountHome, 'sessions');
    const state = this.dirs.get(dir) ?? this.watchDir(dir);
    if (state.watcher && !state.dirty && Date.now() - state.scannedAt < FULL_SCAN_MS) return state.sessions;
    // Cleared before the scan: a change during it marks the dir for the next read.
    state.dirty = false;
    state.scannedAt = Date.now();
    const { sessions, settled } = await this.scan(dir);
    state.sessions = sessions;
    if (!settled) state.dirty = true;
    return sessions;
  }

  /** Stops watching; later reads scan every time. */
  close(): void {
    for (const state of this.dirs.values()) state.watcher?.close();
    this.dirs.clear();
  }

  /** A dir that cannot be watched (not there yet) is not remembered: the next read tries again. */
  private watchDir(dir: string): DirState {
    const state: DirState = { watcher: null, dirty: true, scannedAt: 0, sessions: [] };
    try {
      const watcher = watch(dir, { persistent: false }, () => {
        state.dirty = true;
      });
      watcher.on('error', () => {
        // the dir went away (a home removed or replaced): scan, and watch afresh
        watcher.close();
        if (this.dirs.get(dir) === state) this.dirs.delete(dir);
      });
      state.watcher = watcher;
      this.dirs.set(dir, state);
    } catch {
      // no such dir yet: read() scans each time, and watches once it exists
    }
    return state;
  }

  private async scan(dir: string): Promise<{ sessions: RunningSessionFile[]; settled: boolean }> {
    this.scanCount++;
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith('.json'));
    } catch {
      names = [];
    }
    const before = this.known.get(dir);
    const listed = new Map<string, KnownFile>();
    const sessions = await Promise.all(names.map((n) => this.readOne(dir, n, before?.get(n), listed)));
    if (listed.size > 0) this.known.set(dir, listed);
    else this.known.delete(dir);
    // A file not remembered is one still settling (or unreadable): not to be trusted to the watch.
    return { sessions: sessions.filter((s) => s !== null), settled: listed.size === names.length };
  }

  private async readOne(dir: string, name: string, known: KnownFile | undefined, remember: Map<string, KnownFile>): Promise<RunningSessionFile | null> {
    const path = join(dir, name);
    try {
      const startedAt = Date.now();
      const { ino, size, mtimeNs, mtimeMs } = await stat(path, { bigint: true });
      if (known && known.ino === ino && known.size === size && known.mtimeNs === mtimeNs) {
        remember.set(name, known);
        return known.session;
      }
      const text = await readRegularFile(path);
      if (text === null) return null;
      const session = parseSessionFile(text, name);
      if (startedAt - Number(mtimeMs) >= SETTLED_MS) remember.set(name, { ino, size, mtimeNs, session });
      return session;
    } catch {
      // a file being removed right now: the next tick reads it
      return null;
    }
  }
}

/** null for a file that is not (yet) a session file; one being written is read again once it changes. */
function parseSessionFile(text: string, name: string): RunningSessionFile | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  // The pid is the file's own name when the content lacks it.
  const withPid = typeof parsed === 'object' && parsed !== null && !('pid' in parsed) ? { ...parsed, pid: Number(name.replace(/\.json$/, '')) } : parsed;
  const file = parsePayload(sessionFile, withPid);
  if (!file) return null;
  return { pid: file.pid, sessionId: file.sessionId, cwd: file.cwd ?? null, status: file.status ?? null, paneId: /%\d+$/.exec(file.tmux ?? '')?.[0] ?? null };
}

