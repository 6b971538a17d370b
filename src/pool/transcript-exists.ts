import { existsSync, realpathSync } from 'node:fs';
import { transcriptPath } from '../claude/transcript-record.js';

/** Where `--resume <id>` from `cwd` under this account home looks for the conversation (null: the cwd is gone). */
export function transcriptFor(accountHome: string, cwd: string, sessionId: string): string | null {
  try {
    return transcriptPath(accountHome, realpathSync(cwd), sessionId);
  } catch {
    return null;
  }
}

/** Whether `--resume <id>` from `cwd` under this account home would find the conversation. */
export function hasTranscript(accountHome: string, cwd: string, sessionId: string): boolean {
  const path = transcriptFor(accountHome, cwd, sessionId);
  return path !== null && existsSync(path);
}
