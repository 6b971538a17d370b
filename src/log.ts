import pino, { type Logger } from 'pino';

export type { Logger };

/** Field paths whose values are secrets: they are replaced before a line is written. */
export const REDACTED_PATHS = [
  'botToken',
  'token',
  'authorization',
  '*.botToken',
  '*.token',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'config.notify.telegram.botToken',
  'config.server.token',
];

/**
 * One JSON line per event; human-readable when stderr is a terminal. Secrets named in
 * REDACTED_PATHS never reach the output, and `redactSecrets` scrubs free text.
 */
export function createLogger(options: { level?: string; pretty?: boolean; destination?: NodeJS.WritableStream } = {}): Logger {
  const pretty = options.pretty ?? (process.stderr.isTTY && !options.destination);
  const base = {
    level: options.level ?? process.env.CLAUDE_FAILOVER_LOG_LEVEL ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' } } });
  }
  return pino(base, (options.destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 2, sync: true }));
}

/** A logger that writes nothing (tests, short-lived commands). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Removes every known secret from a piece of text (an error message, a URL). */
export function redactSecrets(text: string, secrets: readonly (string | null | undefined)[]): string {
  let out = text;
  for (const secret of secrets) if (secret) out = out.split(secret).join('[redacted]');
  return out;
}
