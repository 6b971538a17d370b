import { readRegularFile } from '../regular-file.js';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parsePayload, sessionFile } from '../claude/payloads.js';
import { processAlive } from '../process-alive.js';

/** A Claude Code session running on a config home, as its own `sessions/<pid>.json` says. */
export interface RunningClaude {
  readonly pid: number;
  /** The config home it runs on. */
  readonly home: string;
}

/**
 * The Claude Code sessions alive on each of `homes`: every interactive session writes
 * `<home>/sessions/<pid>.json` while it runs (a file whose pid is gone is a crashed one's and
 * does not count). Unreadable homes and files count as none.
 */
export async function runningClaudeSessions(homes: readonly string[]): Promise<RunningClaude[]> {
  const out: RunningClaude[] = [];
  for (const home of homes) {
    let names: string[];
    try {
      names = await readdir(join(home, 'sessions'));
    } catch {
      continue;
    }
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const text = await readRegularFile(join(home, 'sessions', name)).catch(() => null);
      let value: unknown = null;
      try {
        value = text === null ? null : JSON.parse(text);
      } catch {
        value = null;
      }
      const file = parsePayload(sessionFile, value);
      if (file && processAlive(file.pid)) out.push({ pid: file.pid, home });
    }
  }
  return out;
}
