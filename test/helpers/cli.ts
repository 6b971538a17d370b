import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The built CLI (dist/, built once by test/global-setup.ts): what a user runs, and what the
 * hooks installed into test accounts call. Every test runs this one entry, the same way.
 */
export const CLI_ENTRY = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/cli/main.js');

export interface CliOptions {
  /** Set over the test's own environment; `undefined` removes a variable. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Node's own options, before the entry (e.g. `--import` a module tracer). */
  readonly nodeArgs?: readonly string[];
  readonly stdio?: StdioOptions;
}

export interface CliRunOptions extends Omit<CliOptions, 'stdio'> {
  /** Written to stdin, which is then closed; null leaves stdin open and unwritten. Default: closed at once. */
  readonly input?: string | null;
  /** The process is killed (SIGKILL, code null) after this long. */
  readonly timeoutMs?: number;
}

export interface CliRun {
  /** The exit code; null when a signal ended it. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment a CLI child gets: the test's, without tmux's (the runner may itself run in tmux), plus `env`. */
function cliEnv(env: CliOptions['env'] = {}): NodeJS.ProcessEnv {
  const { TMUX: _tmux, TMUX_PANE: _pane, ...outside } = process.env;
  const out: NodeJS.ProcessEnv = { ...outside };
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) Reflect.deleteProperty(out, name);
    else out[name] = value;
  }
  return out;
}

/** Starts the built CLI as a child process (a daemon, the demo: anything the test watches while it runs). */
export function spawnCli(args: readonly string[], options: CliOptions = {}): ChildProcess {
  return spawn(process.execPath, [...(options.nodeArgs ?? []), CLI_ENTRY, ...args], { env: cliEnv(options.env), stdio: options.stdio ?? ['pipe', 'pipe', 'pipe'] });
}

/** Runs the built CLI to its end without blocking this process (an in-process daemon keeps answering). */
export function runCli(args: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  const child = spawnCli(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin?.on('error', () => undefined); // a child that exits without reading its input
  if (options.input !== null) child.stdin?.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  return new Promise((done) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      child.stdin?.destroy();
      done({ code, stdout, stderr });
    });
  });
}

/** How a child process ended (at once if it already has); with `timeoutMs`, a child still running then is a failure. */
export function exitOf(child: ChildProcess, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((done, fail) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      done({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => { fail(new Error(`pid ${String(child.pid)} still running after ${String(timeoutMs)} ms`)); }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal });
    });
  });
}
