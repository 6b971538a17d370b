import { readFileSync } from 'node:fs';

/** One line of the daemon's JSON log: pino's `time` (ms since the epoch), `msg`, and its fields. */
export interface LogRecord {
  readonly time: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** Every parsable line of a daemon log file, oldest first. */
export function readDaemonLog(file: string): LogRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: LogRecord[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (typeof parsed.time === 'number' && typeof parsed.msg === 'string') out.push(parsed as LogRecord);
    } catch {
      // a line cut by a write in progress
    }
  }
  return out;
}

/** When the daemon received hook `event` for conversation `sessionId`: the first one at or after `after`. */
export function hookReceivedAt(log: readonly LogRecord[], event: string, sessionId: string, after: number): number | null {
  return log.find((r) => r.msg === 'hook' && r.event === event && r.sessionId === sessionId && r.time >= after)?.time ?? null;
}

/** The first line whose message starts with `prefix`, at or after `after`. */
export function firstLogAt(log: readonly LogRecord[], prefix: string, after: number, where: (r: LogRecord) => boolean = () => true): number | null {
  return log.find((r) => r.msg.startsWith(prefix) && r.time >= after && where(r))?.time ?? null;
}
