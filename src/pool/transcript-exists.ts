import { existsSync, realpathSync } from 'node:fs';
import { transcriptPath } from '../claude/transcript-record.js';

/** Whether `--resume <id>` from `cwd` under this account home would find the conversation. */
export function hasTranscript(accountHome: string, cwd: string, sessionId: string): boolean {
  let realCwd: string;
  try {
    realCwd = realpathSync(cwd);
  } catch {
    return false;
  }
  return existsSync(transcriptPath(accountHome, realCwd, sessionId));
}
