import { readRegularFile } from '../regular-file.js';
import { chmod, rename, stat, writeFile, unlink } from 'node:fs/promises';
import { FailoverError, errnoCode } from '../errors.js';
import { tempPathFor } from '../temp-path.js';

/**
 * A JSON object file, or {} when it does not exist. Malformed content is an error, never
 * overwritten; so is something other than a regular file in its place (a FIFO is opened
 * without blocking: a plain read would wait for a writer forever, and the swap with it).
 */
export async function readJsonObject(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    const read = await readRegularFile(path);
    if (read === null) throw new FailoverError('READ_FAILED', `cannot read ${path}: not a regular file; move it away, nothing was changed`);
    text = read;
  } catch (err) {
    if (err instanceof FailoverError) throw err;
    if (errnoCode(err) === 'ENOENT') return {};
    throw new FailoverError('READ_FAILED', `cannot read ${path}: ${errnoCode(err) ?? String(err)}`, { cause: err });
  }
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch (err) {
    throw new FailoverError('BAD_JSON', `${path} is not valid JSON (${err instanceof Error ? err.message : String(err)}); fix or move it, nothing was changed`, { cause: err });
  }
  throw new FailoverError('BAD_JSON', `${path} does not hold a JSON object; nothing was changed`);
}

/**
 * Temp file + rename in the same directory, keeping the file's mode (new files: 0600), or with
 * `mode` when given: the temp file is born with it, so content that must stay private (a hook
 * token) is never in a file anyone else may read, not even for a moment.
 */
export async function writeJsonAtomic(path: string, value: unknown, options: { readonly mode?: number } = {}): Promise<void> {
  let mode = options.mode ?? 0o600;
  if (options.mode === undefined) {
    try {
      mode = (await stat(path)).mode & 0o777;
    } catch {
      // a new file
    }
  }
  const temp = tempPathFor(path);
  try {
    await writeFile(temp, JSON.stringify(value, null, 2) + '\n', { mode });
    await chmod(temp, mode);
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw new FailoverError('WRITE_FAILED', `cannot write ${path}: ${errnoCode(err) ?? String(err)}`, { cause: err });
  }
}
