import { readdir, readFile } from 'node:fs/promises';
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

/** Reads every session file of an account home; unreadable or malformed ones are skipped. */
export async function readRunningSessions(accountHome: string): Promise<RunningSessionFile[]> {
  const dir = join(accountHome, 'sessions');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const found: RunningSessionFile[] = [];
  await Promise.all(
    names
      .filter((n) => n.endsWith('.json'))
      .map(async (n) => {
        try {
          const raw = JSON.parse(await readFile(join(dir, n), 'utf8')) as Record<string, unknown>;
          if (typeof raw.sessionId !== 'string') return;
          const tmux = typeof raw.tmux === 'string' ? raw.tmux : '';
          found.push({
            pid: typeof raw.pid === 'number' ? raw.pid : Number(n.replace(/\.json$/, '')),
            sessionId: raw.sessionId,
            cwd: typeof raw.cwd === 'string' ? raw.cwd : null,
            status: raw.status === 'busy' || raw.status === 'idle' ? raw.status : null,
            paneId: /%\d+$/.exec(tmux)?.[0] ?? null,
          });
        } catch {
          // a file being written or removed right now: the next tick reads it
        }
      }),
  );
  return found;
}
