import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

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

/**
 * Reads the session files of account homes, and reads a file again only when its stat
 * (inode, size, mtime) changed since: an idle pool costs a readdir and a stat per file.
 */
export class SessionFileReader {
  /** By sessions dir, then by file name: only the files the last readdir listed. */
  private readonly known = new Map<string, Map<string, KnownFile>>();

  /** Every session file of an account home; unreadable or malformed ones are skipped. */
  async read(accountHome: string): Promise<RunningSessionFile[]> {
    const dir = join(accountHome, 'sessions');
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
    return sessions.filter((s) => s !== null);
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
      const session = parseSessionFile(await readFile(path, 'utf8'), name);
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
  if (typeof parsed !== 'object' || parsed === null) return null;
  const raw = parsed as Record<string, unknown>;
  if (typeof raw.sessionId !== 'string') return null;
  const tmux = typeof raw.tmux === 'string' ? raw.tmux : '';
  return {
    pid: typeof raw.pid === 'number' ? raw.pid : Number(name.replace(/\.json$/, '')),
    sessionId: raw.sessionId,
    cwd: typeof raw.cwd === 'string' ? raw.cwd : null,
    status: raw.status === 'busy' || raw.status === 'idle' ? raw.status : null,
    paneId: /%\d+$/.exec(tmux)?.[0] ?? null,
  };
}
