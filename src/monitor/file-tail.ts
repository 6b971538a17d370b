import { openRegularFile } from '../regular-file.js';

/** What a tail remembers of a file's last stat, to tell a changed file from an idle one. */
export interface SeenStat {
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface FileTailOptions {
  /** Bytes read per read call (default 1 MiB). */
  readonly chunkBytes?: number;
  /** A line longer than this is skipped whole, not kept in memory (default 16 MiB). */
  readonly maxLineBytes?: number;
}

const NEWLINE = 0x0a;

/**
 * Follows one append-only file by byte offset. Only complete lines come out; a half-written
 * last line waits for its newline. A truncated file (smaller than the offset) or a replaced
 * one (another inode) is read again from its start. Lines are split on bytes, so a UTF-8
 * character cut between two reads comes out whole.
 */
export class FileTail {
  private offset: number;
  private seen: SeenStat;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Inside a line that outgrew maxLineBytes: drop bytes until its newline. */
  private skipping = false;
  private readonly chunkBytes: number;
  private readonly maxLineBytes: number;

  /** `fromStart`: a file born while we watch is all news; one that was there at start is history. */
  constructor(readonly path: string, stat: SeenStat, fromStart: boolean, options: FileTailOptions = {}) {
    this.seen = { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs };
    this.offset = fromStart ? 0 : stat.size;
    this.chunkBytes = options.chunkBytes ?? 1024 * 1024;
    this.maxLineBytes = options.maxLineBytes ?? 16 * 1024 * 1024;
  }

  /** True when a fresh stat says the file may hold something we have not read. */
  changedSince(stat: SeenStat): boolean {
    return stat.ino !== this.seen.ino || stat.size !== this.seen.size || stat.mtimeMs !== this.seen.mtimeMs || stat.size !== this.offset;
  }

  /**
   * Reads everything appended since the last call and hands each complete line to `onLine`.
   * Returns how many lines longer than maxLineBytes were skipped. Throws what `open` throws
   * (ENOENT when the file is gone). Something other than a regular file put in its place (a
   * FIFO, a device) is not read: opened without blocking, it reads as nothing.
   */
  async readNewLines(onLine: (line: string) => void): Promise<{ skippedLongLines: number }> {
    // The inode and size are the open handle's own, so they and the bytes belong to one file.
    const file = await openRegularFile(this.path);
    if (!file) return { skippedLongLines: 0 };
    const { handle } = file;
    const stat = { ino: file.ino, size: file.size, mtimeMs: file.mtimeMs };
    let skippedLongLines = 0;
    try {
      if (stat.ino !== this.seen.ino || stat.size < this.offset) {
        this.offset = 0;
        this.dropPartial();
        this.skipping = false;
      }
      this.seen = { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs };
      const buffer = Buffer.alloc(Math.min(this.chunkBytes, Math.max(stat.size - this.offset, 1)));
      while (this.offset < stat.size) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, stat.size - this.offset), this.offset);
        if (bytesRead === 0) break; // shrank while we read: the next call starts over
        this.offset += bytesRead;
        skippedLongLines += this.split(buffer.subarray(0, bytesRead), onLine);
      }
    } finally {
      await handle.close();
    }
    return { skippedLongLines };
  }

  private split(chunk: Buffer, onLine: (line: string) => void): number {
    let skipped = 0;
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE, start); newline >= 0; newline = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, newline);
      start = newline + 1;
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      if (this.partialBytes + piece.length > this.maxLineBytes) {
        this.dropPartial();
        skipped++;
        continue;
      }
      const line = this.partialBytes === 0 ? piece.toString('utf8') : Buffer.concat([...this.partial, piece]).toString('utf8');
      this.dropPartial();
      onLine(line);
    }
    if (start < chunk.length && !this.skipping) {
      const rest = chunk.subarray(start);
      if (this.partialBytes + rest.length > this.maxLineBytes) {
        this.dropPartial();
        this.skipping = true;
        skipped++;
      } else {
        // Copy: the read buffer is reused for the next chunk.
        this.partial.push(Buffer.from(rest));
        this.partialBytes += rest.length;
      }
    }
    return skipped;
  }

  private dropPartial(): void {
    this.partial = [];
    this.partialBytes = 0;
  }
}
