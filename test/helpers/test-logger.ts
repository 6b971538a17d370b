import { createWriteStream } from 'node:fs';
import { createLogger, silentLogger, type Logger } from '../../src/log.js';

/** Silent, unless CF_TEST_LOG names a file: then the daemon's JSON log goes there (debugging a test). */
export function testLogger(): Logger {
  const file = process.env.CF_TEST_LOG;
  return file ? createLogger({ pretty: false, level: 'debug', destination: createWriteStream(file, { flags: 'a' }) }) : silentLogger();
}
