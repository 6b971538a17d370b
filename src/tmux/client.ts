import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { TmuxError, isEmptyServer, isNoServer, isNoSuchSession, isServerExited } from './errors.js';
import { openControlConnection, type ControlConnection } from './control-connection.js';
import { PANE_FORMAT, SESSION_FORMAT, formatLiteral, parsePaneLine, parseSessionLine, trimCapture, type PaneInfo, type SessionInfo } from './format.js';

export type { PaneInfo, SessionInfo };
export { TmuxError };

export interface NewSessionOptions {
  readonly name: string;
  readonly cwd: string;
  /** A shell command line, already quoted by the caller (tmux runs it with sh -c). */
  readonly command: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly width?: number;
  readonly height?: number;
  /** Keep the pane and its output when the command exits (remain-on-exit), set atomically. */
  readonly keepPaneOnExit?: boolean;
}

export interface RespawnOptions {
  readonly target: string;
  readonly command: string;
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly kill: boolean;
}

export interface TmuxClient {
  readonly socket: string | null;
  serverRunning(): Promise<boolean>;
  hasSession(name: string): Promise<boolean>;
  newSession(options: NewSessionOptions): Promise<{ paneId: string }>;
  killSession(name: string): Promise<boolean>;
  /** Ends the whole server; one that is not running is fine. */
  killServer(): Promise<void>;
  listSessions(): Promise<SessionInfo[]>;
  /** Every pane of the server, in one tmux call. */
  listPanes(): Promise<PaneInfo[]>;
  paneInfo(target: string): Promise<PaneInfo>;
  /**
   * The last `lines` lines of a pane's visible screen, text only, wrapped lines joined;
   * with `history`, the whole screen and `lines` of scrollback (what a dead pane said before it died).
   */
  capturePane(target: string, lines: number, options?: { history?: boolean }): Promise<string>;
  /** Several panes in one tmux call; a target that vanished is left out, the others kept. */
  captureMany(targets: readonly string[], lines: number): Promise<Map<string, string>>;
  sendText(target: string, text: string): Promise<void>;
  sendKeys(target: string, keys: readonly string[]): Promise<void>;
  respawnPane(options: RespawnOptions): Promise<void>;
  setSessionOption(name: string, option: string, value: string): Promise<void>;
  /** Ends the control-mode connection, if one is open. */
  close(): void;
}

export interface TmuxClientOptions {
  readonly socket: string | null;
  /**
   * Answer the frequent reads (captures, pane lists) over one control-mode connection
   * attached to one of these sessions (the pool's), instead of a tmux process per call.
   * Anything else, or no such session, or an old tmux: a process per call, as without it.
   */
  readonly controlMode?: { readonly sessions: () => readonly string[] };
  readonly timeoutMs?: number;
  readonly tmuxPath?: string;
}

/** How many times a call that raced an exiting server is sent again (see `run`). */
const SERVER_EXIT_RETRIES = 3;

/** A tmux client over execFile (never a shell), on an optional private server (`-L`). */
export function createTmuxClient(options: TmuxClientOptions): TmuxClient {
  const timeoutMs = options.timeoutMs ?? 5000;
  const tmuxPath = options.tmuxPath ?? 'tmux';
  const base = options.socket ? ['-L', options.socket] : [];

  /** One tmux process: for a command that must not be sent twice (it types into or restarts a pane). */
  const runOnce = (args: readonly string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(tmuxPath, [...base, ...args], { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (!err) {
          resolve(stdout);
          return;
        }
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
        const details = { stderr: stderr.trim(), args, exitCode: typeof e.code === 'number' ? e.code : null, cause: err };
        if (e.code === 'ENOENT') reject(new TmuxError('TMUX_NOT_FOUND', `tmux not found (${tmuxPath})`, details));
        else if (e.killed) reject(new TmuxError('TMUX_TIMEOUT', `tmux ${args[0] ?? ''} timed out after ${timeoutMs} ms`, details));
        else if (isNoServer(stderr)) reject(new TmuxError('TMUX_NO_SERVER', `no tmux server running${options.socket ? ` on socket ${options.socket}` : ''}`, details));
        else reject(new TmuxError('TMUX_FAILED', `tmux ${args[0] ?? ''} failed: ${stderr.trim() || e.message}`, details));
      });
    });
  /**
   * A read, or a command that is harmless to send again: sent again when it reached a server
   * on its way out ("server exited unexpectedly": the server dropped it, nothing of it
   * survives), which the next attempt finds gone (no server, or a fresh one it starts). An
   * exiting server can drop two attempts in a row (seen about once in 30 races), so a few.
   */
  const run = async (args: readonly string[]): Promise<string> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await runOnce(args);
      } catch (err) {
        if (attempt >= SERVER_EXIT_RETRIES || !(err instanceof TmuxError) || err.code !== 'TMUX_FAILED' || !isServerExited(err.stderr)) throw err;
      }
    }
  };

  const emptyWithoutServer = async <T>(call: () => Promise<T[]>): Promise<T[]> => {
    try {
      return await call();
    } catch (err) {
      if (err instanceof TmuxError && (err.code === 'TMUX_NO_SERVER' || isEmptyServer(err.stderr))) return [];
      throw err;
    }
  };

  /** After a failed attempt, processes for this long before trying control mode again. */
  const CONTROL_RETRY_MS = 10_000;
  let control: ControlConnection | null = null;
  let opening: Promise<ControlConnection | null> | null = null;
  let controlFailedAt = 0;
  const controlConnection = (): Promise<ControlConnection | null> => {
    const wanted = options.controlMode?.sessions() ?? [];
    if (wanted.length === 0) return Promise.resolve(null);
    if (control && !control.closed) return Promise.resolve(control);
    if (opening) return opening;
    if (Date.now() - controlFailedAt < CONTROL_RETRY_MS) return Promise.resolve(null);
    opening = (async () => {
      try {
        const running = new Set((await client.listSessions()).map((s) => s.name));
        const session = wanted.find((name) => running.has(name));
        if (!session) throw new Error('no session to attach to');
        control = await openControlConnection({ tmuxPath, serverArgs: base, session, timeoutMs });
        return control;
      } catch {
        controlFailedAt = Date.now();
        return null;
      }
    })().finally(() => {
      opening = null;
    });
    return opening;
  };
  /** Over the control connection when there is one; a command error there is the command's. */
  const runRead = async (args: readonly string[]): Promise<string> => {
    const connection = await controlConnection();
    if (connection) {
      try {
        return await connection.run(args);
      } catch (err) {
        // The connection ended (its session went, say): this call takes a process.
        if (!connection.closed) throw err;
      }
    }
    return run(args);
  };

  // set-option takes a pane target, where a bare name can match a window of that name in the
  // current session, and `=name` alone means a window: `=name:` is the session named exactly so.
  const sessionTarget = (name: string) => `=${name}:`;
  // new-session -s is a format (tmux 3.2 and later) and tmux turns ':' and '.' into '_': a name
  // it would change is refused, so `=name` always finds the session made under that name.
  const sessionName = (name: string) => {
    if (name === '' || /[#:.]/.test(name)) throw new TmuxError('TMUX_BAD_ARGUMENT', `refusing a tmux session name tmux would rewrite: ${JSON.stringify(name)}`, { stderr: '', args: ['new-session', '-s', name], exitCode: null });
    return name;
  };
  // -e values, targets, the pane's command, send-keys -l text and set-option values are not
  // formats; -c is (tmux/format.ts, formatLiteral).
  const envArgs = (env: Readonly<Record<string, string>> | undefined) => Object.entries(env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  // The visible screen only: scrollback holds old frames that say nothing about the present.
  const captureArgs = (target: string) => ['capture-pane', '-p', '-J', '-t', target];
  const lastLines = (text: string, lines: number) => trimCapture(text).split('\n').slice(-Math.max(1, lines)).join('\n');

  const client: TmuxClient = {
    socket: options.socket,
    serverRunning: async () => {
      try {
        await run(['list-sessions', '-F', '#{session_name}']);
        return true;
      } catch (err) {
        if (err instanceof TmuxError && err.code === 'TMUX_NO_SERVER') return false;
        throw err;
      }
    },
    hasSession: async (name) => {
      try {
        await run(['has-session', '-t', `=${name}`]);
        return true;
      } catch (err) {
        if (err instanceof TmuxError && (err.code === 'TMUX_NO_SERVER' || (err.code === 'TMUX_FAILED' && isNoSuchSession(err.stderr)))) return false;
        throw err;
      }
    },
    newSession: async (o) => {
      const args = ['new-session', '-d', '-P', '-F', '#{pane_id}', '-s', sessionName(o.name), '-c', formatLiteral(o.cwd), '-x', String(o.width ?? 200), '-y', String(o.height ?? 50), ...envArgs(o.env), o.command];
      // Options in the same invocation: a command that exits at once still leaves its pane.
      if (o.keepPaneOnExit) args.push(';', 'set-option', '-t', sessionTarget(o.name), 'remain-on-exit', 'on');
      args.push(';', 'set-option', '-t', sessionTarget(o.name), 'history-limit', '5000');
      const out = await run(args);
      const paneId = out.split('\n')[0]?.trim() ?? '';
      if (!/^%\d+$/.test(paneId)) throw new TmuxError('TMUX_FAILED', `tmux new-session printed no pane id: ${JSON.stringify(out)}`, { stderr: '', args, exitCode: 0 });
      return { paneId };
    },
    killSession: async (name) => {
      if (!(await client.hasSession(name))) return false;
      await run(['kill-session', '-t', `=${name}`]);
      return true;
    },
    killServer: async () => {
      await run(['kill-server']).catch(() => undefined);
    },
    listSessions: () => emptyWithoutServer(async () => (await run(['list-sessions', '-F', SESSION_FORMAT])).split('\n').map(parseSessionLine).filter((s): s is SessionInfo => s !== null)),
    listPanes: () => emptyWithoutServer(async () => (await runRead(['list-panes', '-a', '-F', PANE_FORMAT])).split('\n').map(parsePaneLine).filter((p): p is PaneInfo => p !== null)),
    paneInfo: async (target) => {
      const pane = parsePaneLine((await run(['display-message', '-p', '-t', target, PANE_FORMAT])).replace(/\n$/, ''));
      // tmux 3.3 prints an empty format for a pane it cannot find instead of failing.
      if (!pane || pane.paneId === '') throw new TmuxError('TMUX_FAILED', `can't find pane: ${target}`, { stderr: `can't find pane: ${target}`, args: ['display-message', target], exitCode: null });
      return pane;
    },
    capturePane: async (target, lines, opts) =>
      opts?.history ? trimCapture(await run([...captureArgs(target), '-S', `-${lines}`])) : lastLines(await run(captureArgs(target)), lines),
    captureMany: async (targets, lines) => {
      const result = new Map<string, string>();
      if (targets.length === 0) return result;
      const connection = await controlConnection();
      if (connection) {
        // One command a pane, all written at once: a vanished pane fails alone.
        const captures = await Promise.allSettled(connection.runAll(targets.map(captureArgs)));
        if (!connection.closed) {
          captures.forEach((capture, i) => {
            const target = targets[i];
            if (capture.status === 'fulfilled' && target !== undefined) result.set(target, lastLines(capture.value, lines));
          });
          return result;
        }
      }
      // tmux stops a command list at the first failing command, so list the live panes in the
      // same invocation first and capture only those: one process for the whole pool.
      const marker = `CF-CAPTURE-${randomBytes(6).toString("hex")}:`;
      const args: string[] = [];
      targets.forEach((target, i) => args.push(...captureArgs(target), ';', 'display-message', '-p', `${marker}${i}`, ';'));
      args.pop();
      let out: string;
      try {
        out = await run(args);
      } catch (err) {
        if (!(err instanceof TmuxError) || err.code !== 'TMUX_FAILED') throw err;
        // A target vanished: fall back to the panes that exist, still in one call.
        const live = new Set((await client.listPanes()).map((p) => p.paneId));
        const remaining = targets.filter((t) => live.has(t));
        if (remaining.length === targets.length) throw err;
        return client.captureMany(remaining, lines);
      }
      let current: string[] = [];
      for (const line of out.split('\n')) {
        if (line.startsWith(marker)) {
          const target = targets[Number(line.slice(marker.length))];
          if (target !== undefined) result.set(target, lastLines(current.join('\n'), lines));
          current = [];
        } else current.push(line);
      }
      return result;
    },
    sendText: async (target, text) => {
      // Pane ids start again at %0 on a new server: a retry could type into someone else's pane.
      await runOnce(['send-keys', '-t', target, '-l', '--', text]);
      await runOnce(['send-keys', '-t', target, 'Enter']);
    },
    sendKeys: async (target, keys) => {
      await runOnce(['send-keys', '-t', target, ...keys]);
    },
    respawnPane: async (o) => {
      await runOnce(['respawn-pane', ...(o.kill ? ['-k'] : []), '-t', o.target, '-c', formatLiteral(o.cwd), ...envArgs(o.env), o.command]);
    },
    setSessionOption: async (name, option, value) => {
      await run(['set-option', '-t', sessionTarget(name), option, value]);
    },
    close: () => {
      control?.close();
      control = null;
    },
  };
  return client;
}
