import { watch, type FSWatcher } from 'node:fs';
import { mkdir, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { TranscriptSignal } from '../claude/transcript-record.js';

interface Tail {
  offset: number;
  ino: number;
  size: number;
  mtimeMs: number;
  partial: string;
}

export interface TranscriptWatcherOptions {
  /** The shared `projects/` dir: `<projects>/<encoded cwd>/<session id>.jsonl`. */
  readonly projectsDir: string;
  readonly parseLine: (line: string) => TranscriptSignal | null;
  readonly onSignal: (signal: TranscriptSignal & { file: string }) => void;
  readonly logger: Logger;
  /** The safety rescan for events fs.watch dropped (default 2 s). */
  readonly rescanMs?: number;
}

export interface TranscriptWatcher {
  close(): void;
  files(): number;
  /** Resolves once the files present at start are known (their history is not replayed). */
  readonly ready: Promise<void>;
}

const MAX_READ = 8 * 1024 * 1024;

/**
 * Follows lines appended to transcripts: a byte offset per file, a new file read from its
 * start, a truncated or replaced one read again from 0, a half-written line kept until its
 * newline arrives. fs.watch drives it; a cheap stat rescan catches what it drops.
 */
export function watchTranscripts(options: TranscriptWatcherOptions): TranscriptWatcher {
  const tails = new Map<string, Tail>();
  const watchers = new Map<string, FSWatcher>();
  let closed = false;

  async function readNew(file: string, fromStart: boolean): Promise<void> {
    let info;
    try {
      info = await stat(file);
    } catch {
      tails.delete(file);
      return;
    }
    let tail = tails.get(file);
    if (!tail) {
      tail = { offset: fromStart ? 0 : info.size, ino: info.ino, size: info.size, mtimeMs: info.mtimeMs, partial: '' };
      tails.set(file, tail);
      if (!fromStart) return;
    }
    if (info.ino !== tail.ino || info.size < tail.offset) {
      tail.offset = 0; // replaced or truncated: its content is new
      tail.partial = '';
      tail.ino = info.ino;
    }
    tail.size = info.size;
    tail.mtimeMs = info.mtimeMs;
    if (info.size === tail.offset) return;
    const length = Math.min(info.size - tail.offset, MAX_READ);
    const handle = await open(file, 'r');
    let chunk: string;
    try {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, tail.offset);
      tail.offset += bytesRead;
      chunk = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
    const lines = (tail.partial + chunk).split('\n');
    tail.partial = lines.pop() ?? '';
    for (const line of lines) {
      const signal = options.parseLine(line);
      if (signal) {
        try {
          options.onSignal({ ...signal, file });
        } catch (err) {
          options.logger.warn({ err: err instanceof Error ? err.message : String(err), file }, 'transcript signal handler failed');
        }
      }
    }
  }

  /** One read at a time per file; an event during a read schedules one more. */
  const inflight = new Map<string, { again: boolean }>();
  function touch(file: string, fromStart: boolean): void {
    if (closed || !file.endsWith('.jsonl')) return;
    const running = inflight.get(file);
    if (running) {
      running.again = true;
      return;
    }
    const state = { again: false };
    inflight.set(file, state);
    const run = async (): Promise<void> => {
      do {
        state.again = false;
        await readNew(file, fromStart).catch((err: unknown) => { options.logger.debug({ file, err: String(err) }, 'transcript read failed'); });
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by touch() while the read awaited
      } while (state.again && !closed);
    };
    void run().finally(() => inflight.delete(file));
  }

  function watchDir(dir: string, onName: (name: string) => void): void {
    if (watchers.has(dir) || closed) return;
    try {
      const w = watch(dir, (_event, name) => {
        if (name) onName(name);
      });
      w.on('error', () => {
        w.close();
        watchers.delete(dir);
      });
      watchers.set(dir, w);
    } catch {
      // the rescan covers a dir that cannot be watched
    }
  }

  async function scanProjectDir(dir: string, initial: boolean): Promise<void> {
    watchDir(dir, (name) => { touch(join(dir, name), true); });
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (!name.endsWith('.jsonl')) continue;
      const file = join(dir, name);
      const tail = tails.get(file);
      if (!tail) {
        if (initial) await readNew(file, false);
        else touch(file, true);
        continue;
      }
      const info = await stat(file).catch(() => null);
      if (info && (info.size !== tail.size || info.mtimeMs !== tail.mtimeMs || info.ino !== tail.ino)) touch(file, false);
    }
  }

  async function scan(initial: boolean): Promise<void> {
    let dirs: string[];
    try {
      dirs = await readdir(options.projectsDir);
    } catch {
      return;
    }
    for (const d of dirs) await scanProjectDir(join(options.projectsDir, d), initial);
  }

  const ready = (async () => {
    await mkdir(options.projectsDir, { recursive: true }).catch(() => undefined);
    watchDir(options.projectsDir, (name) => void scanProjectDir(join(options.projectsDir, name), false));
    await scan(true);
  })();
  let rescanning = false;
  const timer = setInterval(() => {
    if (rescanning) return;
    rescanning = true;
    void scan(false).finally(() => (rescanning = false));
  }, options.rescanMs ?? 2000);
  timer.unref();

  return {
    ready,
    files: () => tails.size,
    close: () => {
      closed = true;
      clearInterval(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
