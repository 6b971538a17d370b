import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { createLogger } from '../log.js';
import { startDaemon, type Daemon } from '../daemon.js';
import { describeOutcome } from '../switcher/describe-outcome.js';
import type { SwitchOutcome } from '../switcher/types.js';
import { createSandbox, removeSandbox } from '../demo/sandbox.js';
import { endPrivateServer } from '../tmux/end-server.js';

export interface DemoOptions {
  readonly keep: boolean;
  readonly out: (line: string) => void;
  /** Seconds until the preferred account's quota resets (the return). */
  readonly resetSeconds?: number;
}

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;
type StopSignal = keyof typeof SIGNAL_NUMBERS;

/** SIGINT or SIGTERM before the demo was done. */
class DemoInterrupted extends Error {
  readonly signal: StopSignal;
  constructor(signal: StopSignal) {
    super(`interrupted by ${signal}`);
    this.signal = signal;
  }
}

const TASKS = [
  'Refactor the config loader into smaller modules [turns=4]',
  'Write tests for the retry logic [turns=4]',
  'Fix the flaky upload test in the web app [turns=4]',
];

function clock(): string {
  return new Date().toTimeString().slice(0, 8);
}

/**
 * The sandboxed demo: three simulated accounts (the fake Claude Code with small quotas),
 * three sessions in a private tmux server, the real daemon. It narrates the limit, the
 * swap, the resumed conversations and the return, then cleans up.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const say = (line: string) => { options.out(`[${clock()}] ${line}`); };
  const root = await realpath(await mkdtemp(join(tmpdir(), 'claude-failover-demo-')));
  const socket = `cf-demo-${randomBytes(3).toString('hex')}`;
  const resetSeconds = options.resetSeconds ?? 45;
  const resetsAt = Math.floor(Date.now() / 1000) + resetSeconds;
  let daemon: Daemon | null = null;
  let preparing: Promise<unknown> | null = null;
  let starting: Promise<Daemon> | null = null;
  let log: WriteStream | null = null;

  // Ctrl-C or SIGTERM at any moment: stop, clean up (unless --keep) and exit non-zero. A
  // second signal does not wait for the cleanup.
  let interruptedBy: StopSignal | null = null;
  let interrupt: (signal: StopSignal) => void = () => undefined;
  const interrupted = new Promise<never>((_resolve, reject) => {
    interrupt = (signal) => { reject(new DemoInterrupted(signal)); };
  });
  interrupted.catch(() => undefined); // each wait below races it and sees the rejection
  const onSignal = (signal: StopSignal) => {
    if (interruptedBy) process.exit(128 + SIGNAL_NUMBERS[interruptedBy]);
    interruptedBy = signal;
    interrupt(signal);
  };
  const onSigint = () => { onSignal('SIGINT'); };
  const onSigterm = () => { onSignal('SIGTERM'); };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  /** Waits for `work`, or for a signal, whichever comes first. */
  const until = <T>(work: Promise<T>): Promise<T> => Promise.race([work, interrupted]);

  const stopDaemon = async () => {
    // Interrupted while it was starting: it is let finish, then stopped.
    const running = daemon ?? (await starting?.catch(() => null)) ?? null;
    daemon = null;
    starting = null;
    await running?.stop();
  };
  const cleanup = async () => {
    await preparing?.catch(() => undefined); // nothing is still writing into the sandbox
    await stopDaemon();
    log?.end();
    // The sessions' processes write into the sandbox until they are gone.
    await endPrivateServer(socket);
    await removeSandbox(root);
  };
  try {
    say(`sandbox in ${root}; private tmux server: tmux -L ${socket}`);
    const creating = createSandbox({
      root,
      socket,
      accounts: [
        { name: 'alpha', quota: { limit: 7, used: 0, resetsAt, windowSeconds: 3600, kind: 'five_hour', turnMs: 600 } },
        { name: 'bravo', quota: { limit: 400, used: 0, windowSeconds: 18000, kind: 'five_hour', turnMs: 600 } },
        { name: 'charlie', quota: { limit: 400, used: 0, windowSeconds: 18000, kind: 'five_hour', turnMs: 600 } },
      ],
      autonomous: { min: 2, max: 2 },
      dedicated: ['web'],
      overrides: { monitor: { pollIntervalMs: 500, cooldownMs: 3000, returnMarginMs: 1000 }, server: { listen: '127.0.0.1:0' } },
    });
    preparing = creating;
    const sandbox = await until(creating);
    say(`accounts: alpha (preferred, 7 requests left, resets in ${resetSeconds}s), bravo, charlie — each its own home, sharing projects/ through links`);

    const daemonLog = createWriteStream(join(root, 'daemon.log'));
    log = daemonLog;
    const narrate = new Writable({
      write(chunk: Buffer, _enc, done) {
        daemonLog.write(chunk);
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line) continue;
          try {
            const event = JSON.parse(line) as Record<string, unknown>;
            const msg = String(event.msg);
            if (msg.startsWith('usage limit detected')) {
              const session = typeof event.session === 'string' ? event.session : 'a session';
              say(`LIMIT on ${String(event.account)}: seen through the ${String(event.source)} signal of ${session}; resets ${String(event.resetsAt)}`);
            }
            else if (msg === 'session started') say(`  started ${String(event.session)} on ${String(event.account)}`);
          } catch {
            // not JSON: ignore
          }
        }
        done();
      },
    });
    const swaps: SwitchOutcome[] = [];
    let swapSeen: (() => void) | null = null;
    starting = startDaemon({
      config: sandbox.config,
      logger: createLogger({ pretty: false, destination: narrate }),
      onStep: (step) => {
        say(`  swap step: ${step}`);
      },
      onSwap: (outcome) => {
        if (outcome.result === 'skipped' || outcome.result === 'deferred') return;
        swaps.push(outcome);
        say(`SWAP ${describeOutcome(outcome)}`);
        if (outcome.result === 'done') {
          for (const s of outcome.sessions) say(`  ${s.name}: ${s.resumed ? `resumed conversation ${s.sessionId ?? '?'}` : 'started fresh'}${s.prompted ? ', sent the continuation prompt' : ''}${s.ok ? '' : ` — FAILED: ${s.error ?? ''}`}`);
        }
        swapSeen?.();
      },
    });
    const running = await until(starting);
    daemon = running;
    const waitForSwap = (count: number, timeoutMs: number) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => { resolve(false); }, timeoutMs);
        timer.unref(); // an interrupted demo does not wait for it
        swapSeen = () => {
          if (swaps.filter((s) => s.result === 'done').length >= count) {
            clearTimeout(timer);
            resolve(true);
          }
        };
        swapSeen();
      });

    say(`daemon running (health: ${running.httpUrl ?? '-'}/healthz); sessions: auto-1, auto-2, web on alpha`);
    if (options.keep) say(`--keep: watch it live with  tmux -L ${socket} attach -t auto-1`);
    const names = ['auto-1', 'auto-2', 'web'];
    await until(Promise.all(
      names.map(async (name, i) => {
        const task = TASKS[i] ?? 'work';
        const sent = await running.pool.sendPrompt(name, task);
        say(sent ? `→ ${name}: "${task}"` : `! ${name} was not ready for its task`);
      }),
    ));
    say('work is flowing; alpha will run out of quota in a few requests…');
    if (!(await until(waitForSwap(1, 60_000)))) throw new Error('no swap happened within 60 s');
    const status = await running.status();
    say(`link → ${status.link ?? '?'}; active account: ${status.activeAccount ?? '?'}`);
    for (const s of status.sessions) say(`  ${s.name.padEnd(7)} ${s.state.padEnd(8)} on ${s.account ?? '?'}  conversation ${s.sessionId ?? '-'}`);
    say(`waiting for alpha's reset (${new Date(resetsAt * 1000).toTimeString().slice(0, 8)}) and the return…`);
    if (!(await until(waitForSwap(2, (resetSeconds + 60) * 1000)))) throw new Error('no return to alpha happened');
    const after = await running.status();
    say(`back on ${after.activeAccount ?? '?'}; link → ${after.link ?? '?'}; ${after.swaps.filter((s) => s.result === 'done').length} swaps recorded`);
    if (options.keep) {
      say(`--keep: the daemon keeps running. Attach:  tmux -L ${socket} attach -t auto-1`);
      say(`status:  claude-failover --config ${sandbox.configFile} status      (Ctrl-C stops the demo daemon)`);
      await interrupted.catch(() => undefined);
      await stopDaemon();
      daemonLog.end();
      say(`stopped. The sandbox stays in ${root}; remove it with: tmux -L ${socket} kill-server; rm -rf ${root}`);
      return 0;
    }
    say('demo complete: limit → swap → resumed conversations → return. Cleaning up.');
    await cleanup();
    return 0;
  } catch (err) {
    if (err instanceof DemoInterrupted) {
      if (options.keep) {
        say(`${err.signal}: stopping the daemon before the demo was done; the sessions keep running. Attach: tmux -L ${socket} attach -t auto-1`);
        await stopDaemon().catch(() => undefined);
        say(`The sandbox stays in ${root}; remove it with: tmux -L ${socket} kill-server; rm -rf ${root}`);
      } else {
        say(`${err.signal}: stopping the demo and removing its sandbox and tmux server…`);
        await cleanup().catch(() => undefined);
        say('cleaned up.');
      }
      return 128 + SIGNAL_NUMBERS[err.signal];
    }
    say(`demo failed: ${err instanceof Error ? err.message : String(err)} (daemon log: ${join(root, 'daemon.log')})`);
    if (options.keep) {
      await stopDaemon().catch(() => undefined);
      say(`--keep: the sandbox stays in ${root}; remove it with: tmux -L ${socket} kill-server; rm -rf ${root}`);
    } else {
      await cleanup().catch(() => undefined);
    }
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  }
}
