import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/**
 * Opens `path` for reading only if it is a regular file (a link to one is one); null for a
 * FIFO, a device or a directory in its place. Opened without blocking and checked on the open
 * descriptor: a plain open of a FIFO waits for a writer forever and holds one of libuv's four
 * threads, and a few such waits stop every asynchronous file operation of the daemon. Throws
 * what `open` throws (ENOENT …). The caller closes the handle.
 */
export async function openRegularFile(path: string): Promise<{ readonly handle: FileHandle; readonly size: number; readonly ino: number; readonly mtimeMs: number } | null> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (info.isFile()) return { handle, size: info.size, ino: info.ino, mtimeMs: info.mtimeMs };
  } catch (err) {
    await handle.close();
    throw err;
  }
  await handle.close();
  return null;
}

/** A regular file's text; null when something else is in its place. Throws what `open` throws. */
export async function readRegularFile(path: string): Promise<string | null> {
  const file = await openRegularFile(path);
  if (!file) return null;
  try {
    return await file.handle.readFile('utf8');
  } finally {
    await file.handle.close();
  }
}
