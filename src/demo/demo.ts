import { createWriteStream } from 'node:fs';
import { mkdtemp, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { createLogger } from '../log.js';
import { startDaemon, describeOutcome, type Daemon } from '../daemon.js';
import type { SwitchOutcome } from '../switcher/types.js';
import { createSandbox, removeSandbox } from './sandbox.js';

export interface DemoOptions {
  readonly keep: boolean;
  readonly out: (line: string) => void;
  /** Seconds until the preferred account's quota resets (the return). */
  readonly resetSeconds?: number;
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
  const cleanup = async () => {
    await daemon?.stop();
    await new Promise((resolve) => execFile('tmux', ['-L', socket, 'kill-server'], () => { resolve(null); }));
    if (!options.keep) await removeSandbox(root);
  };
  try {
    say(`sandbox in ${root}; private tmux server: tmux -L ${socket}`);
    const sandbox = await createSandbox({
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
    say(`accounts: alpha (preferred, 7 requests left, resets in ${resetSeconds}s), bravo, charlie — each its own home, sharing projects/ through links`);

    const log = createWriteStream(join(root, 'daemon.log'));
    const narrate = new Writable({
      write(chunk: Buffer, _enc, done) {
        log.write(chunk);
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
    daemon = await startDaemon({
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
    const running = daemon;
    const waitForSwap = (count: number, timeoutMs: number) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => { resolve(false); }, timeoutMs);
        swapSeen = () => {
          if (swaps.filter((s) => s.result === 'done').length >= count) {
            clearTimeout(timer);
            resolve(true);
          }
        };
        swapSeen();
      });

    say(`daemon running (health: ${running.httpUrl ?? '-'}/healthz); sessions: auto-1, auto-2, web on alpha`);
    const names = ['auto-1', 'auto-2', 'web'];
    await Promise.all(
      names.map(async (name, i) => {
        const task = TASKS[i] ?? 'work';
        const sent = await running.pool.sendPrompt(name, task);
        say(sent ? `→ ${name}: "${task}"` : `! ${name} was not ready for its task`);
      }),
    );
    say('work is flowing; alpha will run out of quota in a few requests…');
    if (!(await waitForSwap(1, 60_000))) throw new Error('no swap happened within 60 s');
    const status = await running.status();
    say(`link → ${status.link ?? '?'}; active account: ${status.activeAccount ?? '?'}`);
    for (const s of status.sessions) say(`  ${s.name.padEnd(7)} ${s.state.padEnd(8)} on ${s.account ?? '?'}  conversation ${s.sessionId ?? '-'}`);
    say(`waiting for alpha's reset (${new Date(resetsAt * 1000).toTimeString().slice(0, 8)}) and the return…`);
    if (!(await waitForSwap(2, (resetSeconds + 60) * 1000))) throw new Error('no return to alpha happened');
    const after = await running.status();
    say(`back on ${after.activeAccount ?? '?'}; link → ${after.link ?? '?'}; ${after.swaps.filter((s) => s.result === 'done').length} swaps recorded`);
    if (options.keep) {
      say(`--keep: the daemon keeps running. Attach:  tmux -L ${socket} attach -t auto-1`);
      say(`status:  claude-failover --config ${sandbox.configFile} status      (Ctrl-C stops the demo daemon)`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await running.stop();
      daemon = null;
      say(`stopped. The sandbox stays in ${root}; remove it with: tmux -L ${socket} kill-server; rm -rf ${root}`);
      return 0;
    }
    say('demo complete: limit → swap → resumed conversations → return. Cleaning up.');
    await cleanup();
    return 0;
  } catch (err) {
    say(`demo failed: ${err instanceof Error ? err.message : String(err)} (daemon log: ${join(root, 'daemon.log')})`);
    await cleanup().catch(() => undefined);
    return 1;
  }
}
