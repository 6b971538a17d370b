import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { TmuxError } from './errors.js';

/**
 * One long-lived tmux control-mode client (`tmux -C`): commands are written to its stdin
 * and answered in order between `%begin` and `%end`/`%error` lines, so a poll costs no
 * process at all (a tmux process costs the daemon ~5 ms of CPU to start). It attaches
 * read-only, with no output stream and without resizing anything, to one session; when
 * that session goes, the connection ends and the caller opens another or falls back.
 */
export interface ControlConnection {
  /** The command's output (its lines, joined); a TmuxError when tmux answers %error or the connection ends. */
  run(args: readonly string[]): Promise<string>;
  /** Several commands in one write; each answer settles on its own, in order. */
  runAll(commands: readonly (readonly string[])[]): Promise<string>[];
  readonly closed: boolean;
  close(): void;
}

export interface ControlConnectionOptions {
  readonly tmuxPath: string;
  /** `-L <socket>` or nothing. */
  readonly serverArgs: readonly string[];
  readonly session: string;
  readonly timeoutMs: number;
}

interface Pending {
  readonly args: readonly string[];
  readonly resolve: (output: string) => void;
  readonly reject: (err: TmuxError) => void;
}

const BEGIN = /^%begin (\d+) (\d+) (\d+)$/;

/**
 * Quotes one argument for tmux's command parser. Only plain arguments are sent this way:
 * one with a quote, a backslash or a line break is refused (the caller uses a process).
 */
export function controlQuote(arg: string): string | null {
  if (/['\\\n\r]/.test(arg)) return null;
  return `'${arg}'`;
}

export function controlCommandLine(args: readonly string[]): string | null {
  const quoted = args.map((a) => (a === ';' ? ';' : controlQuote(a)));
  return quoted.every((q): q is string => q !== null) ? quoted.join(' ') : null;
}

export function openControlConnection(options: ControlConnectionOptions): Promise<ControlConnection> {
  const argv = [...options.serverArgs, '-C', 'attach-session', '-t', `=${options.session}`, '-f', 'ignore-size,no-output,read-only'];
  const child: ChildProcessWithoutNullStreams = spawn(options.tmuxPath, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  const queue: Pending[] = [];
  let closed = false;
  let attached = false;
  let block: { key: string; lines: string[]; ours: boolean } | null = null;
  let stderr = '';
  let partial = '';
  let timer: NodeJS.Timeout | null = null;

  return new Promise((resolveOpen, rejectOpen) => {
    const openTimer = setTimeout(() => {
      if (!attached) fail(new TmuxError('TMUX_TIMEOUT', `tmux control mode did not attach within ${options.timeoutMs} ms`, { stderr: stderr.trim(), args: argv, exitCode: null }));
    }, options.timeoutMs);
    const fail = (err: TmuxError) => {
      clearTimeout(openTimer);
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      for (const p of queue.splice(0)) p.reject(err);
      if (!attached) rejectOpen(err);
      child.kill('SIGKILL');
    };
    const ended = (why: string) => { fail(new TmuxError('TMUX_FAILED', `the tmux control connection ended: ${why}`, { stderr: stderr.trim(), args: argv, exitCode: child.exitCode })); };
    // One timer for the oldest unanswered command: a server that stops answering ends the connection.
    const armTimer = () => {
      if (timer) clearTimeout(timer);
      timer = queue.length > 0 ? setTimeout(() => { fail(new TmuxError('TMUX_TIMEOUT', `tmux did not answer within ${options.timeoutMs} ms (control mode)`, { stderr: '', args: queue[0]?.args ?? [], exitCode: null })); }, options.timeoutMs) : null;
      timer?.unref();
    };

    const onLine = (line: string) => {
      if (block) {
        if (line === `%end ${block.key}` || line === `%error ${block.key}`) {
          const finished = block;
          block = null;
          if (!finished.ours) {
            // The attach command's own answer: the connection is ready.
            if (!attached && line.startsWith('%end')) {
              attached = true;
              clearTimeout(openTimer);
              resolveOpen(connection);
            }
            return;
          }
          const pending = queue.shift();
          armTimer();
          const output = finished.lines.join('\n');
          if (!pending) return;
          if (line.startsWith('%end')) pending.resolve(output);
          else pending.reject(new TmuxError('TMUX_FAILED', `tmux ${pending.args[0] ?? ''} failed: ${output}`, { stderr: output, args: pending.args, exitCode: 1 }));
          return;
        }
        block.lines.push(line);
        return;
      }
      const begin = BEGIN.exec(line);
      if (begin) {
        block = { key: `${begin[1] ?? ''} ${begin[2] ?? ''} ${begin[3] ?? ''}`, lines: [], ours: begin[3] === '1' };
        return;
      }
      if (line.startsWith('%exit')) ended(line);
      // Other notifications (%session-changed, %sessions-changed, ...) say nothing we need.
    };

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.stdin.on('error', () => { ended('its input closed'); });
    child.on('error', (err) => {
      fail(new TmuxError(errnoIsMissing(err) ? 'TMUX_NOT_FOUND' : 'TMUX_FAILED', `tmux control mode could not start: ${err.message}`, { stderr: '', args: argv, exitCode: null, cause: err }));
    });
    child.on('close', (code) => { ended(stderr.trim() || `exit ${String(code)}`); });

    const connection: ControlConnection = {
      get closed() {
        return closed;
      },
      run: (args) => connection.runAll([args])[0] ?? Promise.reject(new Error('unreachable')),
      runAll: (commands) => {
        const lines: string[] = [];
        const answers = commands.map(
          (args) =>
            new Promise<string>((resolve, reject) => {
              const line = controlCommandLine(args);
              if (closed || line === null) {
                reject(new TmuxError('TMUX_FAILED', closed ? 'the tmux control connection is closed' : 'an argument tmux control mode cannot carry', { stderr: '', args, exitCode: null }));
                return;
              }
              queue.push({ args, resolve, reject });
              lines.push(line + '\n');
            }),
        );
        if (lines.length > 0) {
          if (queue.length === lines.length) armTimer();
          child.stdin.write(lines.join(''));
        }
        return answers;
      },
      close: () => {
        if (closed) return;
        closed = true;
        if (timer) clearTimeout(timer);
        for (const p of queue.splice(0)) p.reject(new TmuxError('TMUX_FAILED', 'the tmux control connection was closed', { stderr: '', args: p.args, exitCode: null }));
        child.stdin.end();
        child.kill('SIGTERM');
      },
    };
  });
}

function errnoIsMissing(err: Error): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}
