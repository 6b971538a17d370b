import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Daemon } from '../../src/daemon.js';
import type { Sandbox } from '../../src/demo/sandbox.js';
import { waitFor } from './wait-for.js';

/** Every transcript under the shared projects dir: session id → its lines. */
export function transcripts(sandbox: Sandbox): Map<string, string[]> {
  const root = join(sandbox.config.sharedDir, 'projects');
  const out = new Map<string, string[]>();
  for (const dir of readdirSync(root)) {
    for (const file of readdirSync(join(root, dir))) {
      if (file.endsWith('.jsonl')) out.set(file.replace(/\.jsonl$/, ''), readFileSync(join(root, dir, file), 'utf8').split('\n').filter(Boolean));
    }
  }
  return out;
}

export function transcriptSizes(sandbox: Sandbox): Map<string, number> {
  const root = join(sandbox.config.sharedDir, 'projects');
  const out = new Map<string, number>();
  for (const dir of readdirSync(root)) {
    for (const file of readdirSync(join(root, dir))) out.set(join(dir, file), statSync(join(root, dir, file)).size);
  }
  return out;
}

/** The user prompts recorded in one transcript. */
export function userPrompts(lines: readonly string[]): string[] {
  return lines
    .map((l) => JSON.parse(l) as { type?: string; message?: { content?: unknown } })
    .filter((r) => r.type === 'user' && typeof r.message?.content === 'string')
    .map((r) => String(r.message?.content));
}

/** Waits until every named pool session is idle at its prompt with a known conversation. */
export async function waitForIdlePool(daemon: Daemon, names: readonly string[], timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      await daemon.tick();
      const sessions = daemon.store.listSessions();
      return names.every((n) => {
        const s = sessions.find((x) => x.name === n);
        return s?.state === 'idle' && typeof s.sessionId === 'string';
      });
    },
    { timeoutMs, what: `pool sessions ${names.join(', ')} idle` },
  );
}

export function tmux(socket: string, ...args: string[]): string {
  return execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
}

/** `chattr +i`: a fault even root cannot write through (an immutable directory). */
export function setImmutable(path: string, on: boolean): void {
  execFileSync('chattr', [on ? '+i' : '-i', path]);
}
