import { createConnection } from 'node:net';
import { spawn } from 'node:child_process';

/**
 * What Claude Code's hooks and statusline run. It must never block or break Claude Code:
 * every path ends in exit 0, whatever the daemon or the input does. Kept free of heavy
 * imports so it starts fast; it exits as soon as the event is passed on.
 *
 * The deadlines only bound what never ends (stdin left open, a socket that never takes the
 * write). They are wall-clock, so they must not be tight: Claude Code writes the hook's JSON
 * and closes stdin at once, but on a busy machine (fifty sessions answering) this process
 * may get the CPU only after a tight timer has fired, and then read nothing. A StopFailure
 * read as empty is a usage limit lost (seen with a 60 ms read deadline in the 50-session storm).
 */
const HOOK_STDIN_MS = 1500;
const HOOK_SEND_MS = 400;
const HOOK_DEADLINE_MS = 2000;
const MAX_INPUT = 1024 * 1024;

function readStdin(limitMs: number): Promise<string> {
  return new Promise((resolve) => {
    if (process.stdin.isTTY) {
      resolve('');
      return;
    }
    let data = '';
    const done = () => {
      process.stdin.pause();
      resolve(data);
    };
    const timer = setTimeout(done, limitMs);
    timer.unref();
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => {
      if (data.length < MAX_INPUT) data += chunk.slice(0, MAX_INPUT - data.length);
    });
    process.stdin.on('end', () => {
      clearTimeout(timer);
      done();
    });
    process.stdin.on('error', done);
  });
}

function parsePayload(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw === '' ? null : { raw: raw.slice(0, 4096) };
  }
}

function send(socketPath: string, message: unknown, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = createConnection(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, timeoutMs);
    timer.unref();
    socket.once('connect', () => {
      socket.end(JSON.stringify(message) + '\n', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function option(argv: readonly string[], name: string): string | null {
  const i = argv.indexOf(name);
  return i >= 0 ? (argv[i + 1] ?? null) : null;
}

/** `hook [--socket P] <Event>`: forward the hook's JSON (with $TMUX_PANE) to the daemon, exit 0. */
export async function runHookRelay(argv: readonly string[]): Promise<never> {
  const hard = setTimeout(() => process.exit(0), HOOK_DEADLINE_MS);
  hard.unref();
  try {
    const socketPath = option(argv, '--socket');
    const event = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--socket').at(-1) ?? 'unknown';
    const raw = await readStdin(HOOK_STDIN_MS);
    if (socketPath) await send(socketPath, { type: 'hook', event, pane: process.env.TMUX_PANE ?? null, payload: parsePayload(raw), at: Date.now() }, HOOK_SEND_MS);
  } catch {
    // never break Claude Code
  }
  process.exit(0);
}

/**
 * `statusline [--socket P] [--chain CMD]`: forward the statusline JSON (usage figures) to
 * the daemon; print the user's own statusline when one is chained, else a short one.
 */
export async function runStatuslineRelay(argv: readonly string[]): Promise<never> {
  const hard = setTimeout(() => process.exit(0), 2500);
  hard.unref();
  try {
    const socketPath = option(argv, '--socket');
    const chain = option(argv, '--chain');
    const raw = await readStdin(500);
    const payload = parsePayload(raw);
    const forwarding = socketPath ? send(socketPath, { type: 'statusline', pane: process.env.TMUX_PANE ?? null, payload, at: Date.now() }, 200) : Promise.resolve();
    if (chain) {
      await new Promise<void>((resolve) => {
        const child = spawn('sh', ['-c', chain], { stdio: ['pipe', 'inherit', 'ignore'] });
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        child.on('error', () => { resolve(); });
        child.on('close', () => {
          clearTimeout(timer);
          resolve();
        });
        child.stdin.on('error', () => undefined);
        child.stdin.end(raw);
      });
    } else {
      const limits = (payload as { rate_limits?: { five_hour?: { used_percentage?: unknown } } } | null)?.rate_limits;
      const used = limits?.five_hour?.used_percentage;
      process.stdout.write(`⇄ claude-failover${typeof used === 'number' ? ` · 5h ${Math.round(used)}%` : ''}\n`);
    }
    await forwarding;
  } catch {
    // a statusline must never fail
  }
  process.exit(0);
}
