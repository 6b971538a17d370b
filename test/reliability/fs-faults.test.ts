import { mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../src/demo/sandbox.js';
import type { SwitchOutcome } from '../../src/switcher/types.js';
import { PARTIAL_SWAP_FLAG } from '../../src/switcher/types.js';
import { setImmutable } from '../helpers/e2e.js';
import { useE2e } from '../helpers/e2e-fixture.js';
import { runCli } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait-for.js';
import { recordFigure } from './figures.js';
import { capturedLogger, probeSandbox, expectTranscriptsIntact, poolWithConversations, privileged, realLimitIsSwapped, snapshotTranscripts, unmount } from './probe-kit.js';

const TEST = 'test/reliability/fs-faults.test.ts';
const RUNS = 3;
const POOL = ['auto-1', 'web'];

/**
 * A filesystem fault that strikes while a swap is under way (right after its journal entry,
 * before the link is flipped). `expect` is what the daemon must make of it: the swap
 * cancelled and everything left on the account in use, or the fault repaired and said in the log.
 */
interface FsFault {
  readonly probe: string;
  /** Before the sandbox exists (a mount under the shared dir). */
  readonly mountFirst?: (root: string) => void;
  readonly apply: (ctx: FaultContext) => void;
  readonly repair: (ctx: FaultContext) => void;
  readonly expect: { readonly result: 'cancelled'; readonly reason: RegExp } | { readonly result: 'done'; readonly log: RegExp };
}

interface FaultContext {
  readonly sandbox: Sandbox;
  readonly root: string;
  /** The swap's target account home. */
  readonly targetHome: string;
}

const home = (sandbox: Sandbox, name: string) => join(sandbox.config.home, `.claude-${name}`);

/** Fills a filesystem to the last byte: what a full disk looks like to every writer. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  // Byte by byte to the very end, so even a one-byte write fails.
  const tail = openSync(path, 'a');
  try {
    for (;;) writeSync(tail, 'a');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(tail);
  }
}

const FAULTS: FsFault[] = [
  {
    probe: 'target home unwritable (chattr +i)',
    apply: ({ targetHome }) => { setImmutable(targetHome, true); },
    repair: ({ targetHome }) => { setImmutable(targetHome, false); },
    expect: { result: 'cancelled', reason: /not writable.*EPERM|EPERM/ },
  },
  {
    probe: 'shared dir on a full filesystem (2 MiB tmpfs)',
    mountFirst: (root) => {
      mkdirSync(join(root, 'shared'), { recursive: true });
      privileged('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'cf-shared-full', join(root, 'shared')], 'a small tmpfs for the shared dir');
    },
    apply: ({ sandbox }) => { fill(join(sandbox.config.sharedDir, 'filler')); },
    repair: ({ sandbox }) => { rmSync(join(sandbox.config.sharedDir, 'filler')); },
    expect: { result: 'cancelled', reason: /ENOSPC/ },
  },
  {
    probe: 'target home on a read-only filesystem',
    apply: ({ targetHome }) => {
      privileged('mount', ['--bind', targetHome, targetHome], 'a bind mount of the target home');
      privileged('mount', ['-o', 'remount,bind,ro', targetHome], 'remounting the target home read-only');
    },
    repair: ({ targetHome }) => { unmount(targetHome); },
    expect: { result: 'cancelled', reason: /EROFS/ },
  },
  {
    probe: 'symlink loop where a shared dir should be',
    apply: ({ sandbox }) => {
      const dir = join(sandbox.config.sharedDir, 'file-history');
      renameSync(dir, `${dir}.aside`);
      symlinkSync('file-history', dir);
    },
    repair: ({ sandbox }) => {
      const dir = join(sandbox.config.sharedDir, 'file-history');
      unlinkSync(dir);
      renameSync(`${dir}.aside`, dir);
    },
    expect: { result: 'cancelled', reason: /ELOOP/ },
  },
  {
    probe: "a FIFO where the target's settings.json should be",
    apply: ({ targetHome }) => {
      renameSync(join(targetHome, 'settings.json'), join(targetHome, 'settings.json.aside'));
      execFileSync('mkfifo', [join(targetHome, 'settings.json')]);
    },
    repair: ({ targetHome }) => {
      unlinkSync(join(targetHome, 'settings.json'));
      renameSync(join(targetHome, 'settings.json.aside'), join(targetHome, 'settings.json'));
    },
    expect: { result: 'cancelled', reason: /settings\.json.*not a regular file/ },
  },
  {
    probe: "symlink loop in the target's shared link",
    apply: ({ targetHome }) => {
      unlinkSync(join(targetHome, 'projects'));
      symlinkSync('projects.loop', join(targetHome, 'projects'));
      symlinkSync('projects', join(targetHome, 'projects.loop'));
    },
    repair: ({ targetHome }) => { unlinkSync(join(targetHome, 'projects.loop')); },
    expect: { result: 'done', log: /projects.*replaced|replaced.*projects/ },
  },
  {
    probe: "dangling shared links in the target home",
    apply: ({ targetHome, root }) => {
      for (const name of ['session-env', 'file-history']) {
        unlinkSync(join(targetHome, name));
        symlinkSync(join(root, 'gone', name), join(targetHome, name));
      }
    },
    repair: () => undefined,
    expect: { result: 'done', log: /session-env.*replaced|replaced.*session-env/ },
  },
];

describe('filesystem faults during a swap (real tmux, fake Claude Code, in-process daemon)', () => {
  const e2e = useE2e('cf-fs', { telegram: true });
  const undo: (() => void)[] = [];
  let atFlip: (() => void) | null = null;
  afterEach(() => {
    // Before the fixture removes the temp dir: no mount or immutable flag may outlive a probe.
    const faults: unknown[] = [];
    for (const step of undo.splice(0).reverse()) {
      try {
        step();
      } catch (err) {
        faults.push(err);
      }
    }
    if (faults.length > 0) throw faults[0];
  });

  async function setUp(fault: Pick<FsFault, 'mountFirst'> = {}) {
    if (fault.mountFirst) {
      fault.mountFirst(e2e.root);
      const mounted = join(e2e.root, 'shared');
      undo.push(() => { unmount(mounted); });
    }
    const sandbox = await probeSandbox(e2e);
    const log = capturedLogger();
    // The daemon's own failpoint hook: the fault strikes there, with the swap under way.
    const d = await e2e.startDaemon(sandbox, { logger: log.logger, onStep: (step) => { if (step === 'flipping') atFlip?.(); } });
    await poolWithConversations(d, POOL);
    return { sandbox, d, log };
  }

  for (const fault of FAULTS) {
    it(`${fault.probe}: ${fault.expect.result === 'cancelled' ? 'the swap is rolled back and said loudly' : 'repaired and said in the log'}, nothing deleted, a later real limit is swapped`, async () => {
      const { sandbox, d, log } = await setUp(fault);
      const before = snapshotTranscripts(sandbox);
      const ids = new Map(POOL.map((n) => [n, d.store.getSession(n)?.sessionId]));
      const outcomes: SwitchOutcome[] = [];
      const faultMs: number[] = [];
      let passes = 0;
      for (let run = 0; run < RUNS; run++) {
        const from = d.store.getActiveAccount() ?? '';
        const to = from === 'A' ? 'B' : 'A';
        const ctx: FaultContext = { sandbox, root: e2e.root, targetHome: home(sandbox, to) };
        // A cancelled swap leaves the fault in place: later runs meet it as it is. A repaired one is struck again.
        let armed = run === 0 || fault.expect.result === 'done';
        const repairs = undo.length;
        const started = Date.now();
        // The fault strikes with the swap under way: its journal entry written, the link not yet flipped.
        atFlip = () => {
          if (!armed) return;
          armed = false;
          fault.apply(ctx);
          undo.push(() => { fault.repair(ctx); });
        };
        const outcome = await d.requestSwitch({ trigger: 'manual', target: to, reason: `probe: ${fault.probe}` });
        atFlip = null;
        faultMs.push(Date.now() - started);
        outcomes.push(outcome);
        const linkAt = readlinkSync(sandbox.config.link);
        let ok: boolean;
        if (fault.expect.result === 'cancelled') {
          ok =
            outcome.result === 'cancelled' && fault.expect.reason.test(outcome.reason) &&
            linkAt === home(sandbox, from) && d.store.getActiveAccount() === from && !d.store.getFlag(PARTIAL_SWAP_FLAG).set &&
            POOL.every((n) => d.store.getSession(n)?.account === from && d.store.getSession(n)?.sessionId === ids.get(n));
        } else {
          ok = outcome.result === 'done' && linkAt === home(sandbox, to) && fault.expect.log.test(log.text());
        }
        if (ok) passes++;
        // The fault stays until the operator's repair: for a cancelled swap, every run meets it.
        if (fault.expect.result === 'done') {
          for (const step of undo.splice(repairs).reverse()) step();
        }
      }
      // Loud: the swap record, the log and a notification say what happened and why.
      if (fault.expect.result === 'cancelled') {
        const reason = fault.expect.reason;
        expect((await d.status()).swaps.slice(0, RUNS).every((s) => s.result === 'cancelled' && reason.test(s.reason ?? ''))).toBe(true);
        expect(log.lines.some((l) => l.level >= 50 && reason.test(JSON.stringify(l)))).toBe(true);
        await waitFor(() => e2e.telegramTexts().some((t) => t.startsWith('Swap A → B cancelled') && reason.test(t)), { what: 'the cancel notification naming the fault' });
      }
      expect(outcomes.map((o) => o.result), JSON.stringify(outcomes)).toEqual(Array(RUNS).fill(fault.expect.result));
      expectTranscriptsIntact(sandbox, before);

      // The operator repairs; the daemon still works: a later real limit is detected and swapped.
      for (const step of undo.splice(fault.mountFirst ? 1 : 0).reverse()) step();
      const limit = await realLimitIsSwapped(e2e, sandbox, 'web');
      expectTranscriptsIntact(sandbox, before);
      for (const n of POOL) expect(d.store.getSession(n)?.sessionId).toBe(ids.get(n));
      recordFigure({ probe: `fs: ${fault.probe}`, test: TEST, runs: RUNS, passes, measured: { expected: fault.expect.result, maxSwapAttemptMs: Math.max(...faultMs), laterLimitToSwapMs: limit.ms } });
      expect(passes).toBe(RUNS);
    });
  }

  it('a real directory put at ~/.claude while the daemon runs: no swap goes through it, it is flagged, nothing in it is deleted; after init a later real limit is swapped', async () => {
    const { sandbox, d, log } = await setUp();
    const before = snapshotTranscripts(sandbox);
    const link = sandbox.config.link;
    // Something (an installer, a person) replaces the link with a real directory holding its own files.
    unlinkSync(link);
    mkdirSync(link);
    writeFileSync(join(link, 'notes.md'), 'written by hand into a real ~/.claude\n');
    // Flagged at once, before any swap meets it: /healthz answers 503 and says why.
    expect((await d.health()).reasons.join('\n')).toMatch(/real directory.*run claude-failover init/);
    let passes = 0;
    const outcomes: SwitchOutcome[] = [];
    for (let run = 0; run < RUNS; run++) {
      const outcome = await d.requestSwitch({ trigger: 'manual', target: 'B', reason: 'probe: real directory at the link' });
      outcomes.push(outcome);
      const reason = 'reason' in outcome ? outcome.reason : '';
      if (outcome.result !== 'done' && /real directory/.test(reason) && readFileSync(join(link, 'notes.md'), 'utf8').includes('by hand')) passes++;
    }
    expect(outcomes.map((o) => o.result), JSON.stringify(outcomes)).not.toContain('done');
    expect(readFileSync(join(link, 'notes.md'), 'utf8')).toContain('by hand');
    expect(d.store.getActiveAccount()).toBe('A');
    expect(log.lines.some((l) => l.level >= 50 && /real directory/.test(JSON.stringify(l)))).toBe(true);
    const health = await d.health();
    expect(health.healthy).toBe(false);
    expect(health.reasons.join('\n')).toMatch(/real directory|not a link/);
    await waitFor(() => e2e.telegramTexts().some((t) => /real directory/.test(t)), { what: 'a notification naming the real directory' });
    expectTranscriptsIntact(sandbox, before);

    // The operator runs init, which migrates the directory (its file kept) and puts the link back.
    const init = await runCli(['--config', sandbox.configFile, 'init']);
    expect(init.code, init.stdout + init.stderr).toBe(0);
    expect(execFileSync('grep', ['-rl', 'by hand', sandbox.config.home], { encoding: 'utf8' }).trim()).not.toBe('');
    if (d.store.getFlag(PARTIAL_SWAP_FLAG).set) expect((await runCli(['--config', sandbox.configFile, 'resolve'])).code).toBe(0);
    expect((await d.health()).healthy).toBe(true);
    const limit = await realLimitIsSwapped(e2e, sandbox, 'web');
    expectTranscriptsIntact(sandbox, before);
    recordFigure({ probe: 'fs: a real directory put at ~/.claude while the daemon runs', test: TEST, runs: RUNS, passes, measured: { outcome: outcomes[0]?.result ?? '', laterLimitToSwapMs: limit.ms } });
    expect(passes).toBe(RUNS);
  });
});
