import { watch, type Dirent, type FSWatcher } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { TranscriptSignal } from '../claude/transcript-record.js';
import { errnoCode } from '../errors.js';
import { FileTail, type FileTailOptions } from './file-tail.js';

export interface TranscriptWatcherOptions {
  /** The shared `projects/` dir: `<projects>/<encoded cwd>/<session id>.jsonl`. */
  readonly projectsDir: string;
  readonly parseLine: (line: string) => TranscriptSignal | null;
  readonly onSignal: (signal: TranscriptSignal & { file: string }) => void;
  readonly logger: Logger;
  /**
   * The safety rescan for events fs.watch dropped (default 10 s). It stats every transcript,
   * so it is most of an idle daemon's file work; inotify drops events only when its queue
   * overflows, and the hook and screen signals cover a limit meanwhile.
   */
  readonly rescanMs?: number;
  /** Read sizes; tests make them small. */
  readonly tail?: FileTailOptions;
}

export interface TranscriptWatcher {
  close(): void;
  /** How many transcript files are followed. */
  files(): number;
  /** Resolves once the files present at start are known (their history is not replayed) and watched. */
  readonly ready: Promise<void>;
}

interface DirWatch {
  readonly watcher: FSWatcher;
  readonly ino: number;
}

const isTranscript = (name: string): boolean => name.endsWith('.jsonl');

/**
 * Follows lines appended to every transcript under `projects/`: a FileTail (byte offset)
 * per file; files there at start are followed from their end, files born later from 0.
 * fs.watch on the projects dir (new session dirs) and on each session dir (appends) drives
 * it; a rescan every `rescanMs` catches what fs.watch dropped, re-watches replaced dirs and
 * forgets deleted files. The rescan stats, and reads only files whose stat changed.
 */
export function watchTranscripts(options: TranscriptWatcherOptions): TranscriptWatcher {
  const { projectsDir, logger } = options;
  const tails = new Map<string, FileTail>();
  const dirWatches = new Map<string, DirWatch>();
  let closed = false;

  /** One read at a time per file; a touch during a read asks for one more pass. */
  const inflight = new Map<string, { again: boolean }>();

  async function readFile(file: string): Promise<void> {
    let tail = tails.get(file);
    if (!tail) {
      // Only called once the start-up listing is done: an unknown file was born since.
      const info = await stat(file);
      if (!info.isFile()) return;
      tail = new FileTail(file, info, true, options.tail);
      tails.set(file, tail);
    }
    const { skippedLongLines } = await tail.readNewLines((line) => {
      if (closed) return;
      const signal = options.parseLine(line);
      if (!signal) return;
      try {
        options.onSignal({ ...signal, file });
      } catch (err) {
        logger.warn({ err: err instanceof Error ? err.message : String(err), file }, 'transcript signal handler failed');
      }
    });
    if (skippedLongLines > 0) logger.debug({ file, skippedLongLines }, 'transcript lines too long to parse: skipped');
  }

  function touch(file: string): void {
    if (closed || !isTranscript(file)) return;
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
        try {
          await readFile(file);
        } catch (err) {
          if (errnoCode(err) === 'ENOENT') tails.delete(file);
          else logger.debug({ file, err: String(err) }, 'transcript read failed');
        }
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by touch() while the read awaited
      } while (state.again && !closed);
    };
    void run().finally(() => inflight.delete(file));
  }

  /** Watches `dir` (again, when it was replaced since); fs.watch errors leave it to the rescan. */
  async function ensureWatched(dir: string, onName: (name: string) => void): Promise<boolean> {
    let ino: number;
    try {
      const info = await stat(dir);
      if (!info.isDirectory()) return false;
      ino = info.ino;
    } catch {
      unwatch(dir);
      return false;
    }
    const current = dirWatches.get(dir);
    if (current?.ino === ino || closed) return true;
    unwatch(dir);
    try {
      const watcher = watch(dir, { persistent: false }, (_event, name) => {
        if (name) onName(name);
      });
      watcher.on('error', () => { unwatch(dir); });
      dirWatches.set(dir, { watcher, ino });
    } catch (err) {
      logger.debug({ dir, err: String(err) }, 'cannot watch a transcript dir: the rescan covers it');
    }
    return true;
  }

  function unwatch(dir: string): void {
    dirWatches.get(dir)?.watcher.close();
    dirWatches.delete(dir);
  }

  async function listDir(dir: string): Promise<Dirent[] | null> {
    try {
      return await readdir(dir, { withFileTypes: true });
    } catch {
      return null;
    }
  }

  /** One session dir: watch it, follow new files, read changed ones, forget deleted ones. */
  async function scanSessionDir(dir: string): Promise<void> {
    if (!(await ensureWatched(dir, (name) => { touch(join(dir, name)); }))) return;
    const entries = await listDir(dir);
    if (!entries) return;
    const present = new Set<string>();
    for (const entry of entries) {
      if (!isTranscript(entry.name) || entry.isDirectory()) continue;
      const file = join(dir, entry.name);
      present.add(file);
      const tail = tails.get(file);
      if (!tail) {
        touch(file);
        continue;
      }
      const info = await stat(file).catch(() => null);
      if (info && tail.changedSince(info)) touch(file);
    }
    forgetMissing(dir, present);
  }

  function forgetMissing(dir: string, present: ReadonlySet<string>): void {
    const prefix = dir + '/';
    for (const file of tails.keys()) {
      if (file.startsWith(prefix) && !file.slice(prefix.length).includes('/') && !present.has(file) && !inflight.has(file)) tails.delete(file);
    }
  }

  async function rescan(): Promise<void> {
    await ensureWatched(projectsDir, (name) => void scanSessionDir(join(projectsDir, name)));
    const entries = await listDir(projectsDir);
    if (!entries) return;
    const dirs = new Set<string>();
    for (const entry of entries) {
      if (entry.isFile()) continue;
      const dir = join(projectsDir, entry.name);
      dirs.add(dir);
      await scanSessionDir(dir);
    }
    for (const dir of dirWatches.keys()) {
      if (dir !== projectsDir && !dirs.has(dir)) {
        unwatch(dir);
        forgetMissing(dir, new Set());
      }
    }
  }

  /** The files there now are history: follow them from their end, read nothing. */
  async function registerExisting(): Promise<void> {
    for (const dirEntry of (await listDir(projectsDir)) ?? []) {
      if (dirEntry.isFile()) continue;
      const dir = join(projectsDir, dirEntry.name);
      for (const entry of (await listDir(dir)) ?? []) {
        if (!isTranscript(entry.name) || entry.isDirectory()) continue;
        const file = join(dir, entry.name);
        const info = await stat(file).catch(() => null);
        if (info?.isFile()) tails.set(file, new FileTail(file, info, false, options.tail));
      }
    }
  }

  let timer: NodeJS.Timeout | null = null;
  const ready = (async () => {
    // Made private when the daemon runs before init: conversations live here (init makes it 0700 too).
    await mkdir(projectsDir, { recursive: true, mode: 0o700 }).catch(() => undefined);
    await registerExisting();
    // Watches go up only now, so no event can make a file that was there at start look new;
    // this first rescan reads whatever changed between the listing and the watches.
    await rescan();
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- close() may have run during the awaits
    if (closed) return;
    let rescanning = false;
    timer = setInterval(() => {
      if (rescanning || closed) return;
      rescanning = true;
      void rescan()
        .catch((err: unknown) => { logger.debug({ err: String(err) }, 'transcript rescan failed'); })
        .finally(() => (rescanning = false));
    }, options.rescanMs ?? 10_000);
    timer.unref();
  })();

  return {
    ready,
    files: () => tails.size,
    close: () => {
      closed = true;
      if (timer) clearInterval(timer);
      for (const dir of [...dirWatches.keys()]) unwatch(dir);
    },
  };
}
