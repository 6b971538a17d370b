import { join } from 'node:path';
import type { Account, Config } from './config/types.js';
import type { Logger } from './log.js';
import { createTmuxClient, type TmuxClient } from './tmux/client.js';
import { openStore } from './store/sqlite-store.js';
import { acquireInstanceLock } from './store/instance-lock.js';
import type { Store } from './store/store.js';
import { createNotifier, type Notifier } from './notify/notifier.js';
import { createHttpApp, startHttpServer } from './server/app.js';
import { createMetrics } from './server/metrics.js';
import { startControlSocket } from './monitor/control-socket.js';
import { watchTranscripts } from './monitor/transcript-watcher.js';
import { parseTranscriptLine } from './claude/transcript-record.js';
import { Monitor } from './monitor/monitor.js';
import type { LimitSource } from './monitor/limit-event.js';
import { Pool } from './pool/pool.js';
import { SessionStates } from './sessions/session-states.js';
import { allPoolSpecs } from './pool/pool-spec.js';
import { Switcher, type AccountLayout } from './switcher/switcher.js';
import { isAvailable } from './switcher/choose-target.js';
import { standingLimits } from './monitor/standing-limits.js';
import { PARTIAL_SWAP_FLAG, RETRY_JOB, RETURN_JOB, type SwapStep, type SwitchOutcome, type SwitchRequest } from './switcher/types.js';
import { waitForQuietMoment } from './switcher/quiet-moment.js';
import { describeOutcome } from './switcher/describe-outcome.js';
import { createAccountLayout } from './accounts/layout.js';
import { buildStatus, type StatusReport } from './status/status-report.js';
import { checkHealth, type Health } from './status/health.js';
import { daemonSocketPath, installedCommands } from './cli/self-command.js';
import { ensureHookToken } from './accounts/hook-endpoint.js';
import { announceHookListener } from './accounts/prepare.js';
import { describeError } from './errors.js';

export interface DaemonOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** Replaces the filesystem layout (fault tests); the real one comes from src/accounts. */
  readonly layout?: AccountLayout;
  readonly onStep?: (step: SwapStep, journalId: number) => void | Promise<void>;
  readonly onSwap?: (outcome: SwitchOutcome) => void;
  /** Limit signals to listen to (all by default). */
  readonly sources?: ReadonlySet<LimitSource>;
  /** Serve /healthz (default true). */
  readonly http?: boolean;
  /** How often the pool is reconciled and jobs are run (default: every 5 s). */
  readonly reconcileMs?: number;
  readonly transcriptRescanMs?: number;
}

export interface Daemon {
  readonly config: Config;
  readonly store: Store;
  readonly tmux: TmuxClient;
  readonly pool: Pool;
  readonly switcher: Switcher;
  readonly monitor: Monitor;
  readonly notifier: Notifier;
  readonly httpUrl: string | null;
  status(): Promise<StatusReport>;
  health(): Promise<Health>;
  requestSwitch(req: SwitchRequest): Promise<SwitchOutcome>;
  /** One pass of every periodic duty (tests drive the daemon with it). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A periodic duty that never overlaps itself: `run()` starts it, or joins the run in
 * flight; `running()` is that run (done when there is none), for a clean stop.
 */
function oneAtATime(work: () => Promise<void>): { run(): Promise<void>; running(): Promise<void> } {
  let current: Promise<void> | null = null;
  return {
    run: () => (current ??= work().finally(() => { current = null; })),
    running: () => current ?? Promise.resolve(),
  };
}

/**
 * The composition root: builds every part from the config, repairs an interrupted swap,
 * starts the pool, the signals and the timers. `stop()` leaves the sessions running.
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, logger } = options;
  const now = options.now ?? (() => new Date());
  const lock = acquireInstanceLock(config.stateDir);
  const store = openStore(config.stateDir, { now });
  const cleanups: (() => Promise<void> | void)[] = [() => { lock.release(); }, () => { store.close(); }];
  const runCleanups = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (err) {
        logger.warn({ err: describeError(err) }, 'cleanup failed');
      }
    }
  };
  try {
    // The pool's sessions are where the daemon's control-mode connection may attach.
    const poolNames = allPoolSpecs(config).map((spec) => spec.name);
    const tmux = createTmuxClient({ socket: config.tmux.socket, controlMode: { sessions: () => poolNames } });
    cleanups.push(() => { tmux.close(); });
    const notifier = createNotifier({ notify: config.notify, logger });
    const metrics = createMetrics();
    const layout = options.layout ?? createAccountLayout(config, logger);
    const activeAccount = (): Account | null => config.accounts.find((a) => a.name === store.getActiveAccount()) ?? null;

    const sessions = new SessionStates(store, now);
    const pool = new Pool({
      config,
      tmux,
      store,
      sessions,
      logger: logger.child({ part: 'pool' }),
      now,
      sleep,
      activeAccount,
      onSessionFailing: (name, reason) => {
        notifier.notify({ kind: 'session-failing', key: `failing:${name}:${reason}`, text: `Session ${name} dies right after its launch; retrying with backoff. Its last words:\n${reason}` });
      },
    });
    cleanups.push(() => { pool.close(); });
    const switcher = new Switcher({
      config,
      store,
      pool,
      layout,
      notifier,
      logger: logger.child({ part: 'switcher' }),
      now,
      onStep: async (step, id) => {
        failpoint(step);
        await options.onStep?.(step, id);
      },
      onSwap: (outcome) => {
        if (outcome.result === 'done' || outcome.result === 'cancelled' || outcome.result === 'partial' || outcome.result === 'no-target') metrics.swaps.inc({ result: outcome.result });
        options.onSwap?.(outcome);
      },
    });
    const request = (req: SwitchRequest) => switcher.request(req);
    /** A request nobody awaits (a limit, a due job): a fault is logged, never an unhandled rejection. */
    const requestInBackground = (req: SwitchRequest): Promise<SwitchOutcome | null> =>
      request(req).catch((err: unknown) => {
        logger.error({ trigger: req.trigger, err: describeError(err) }, 'a switch request failed');
        return null;
      });
    let stopping = false;
    let proactivePending = false;
    /** Before the limit: wait (up to the grace) for no pool session to be mid-answer, then swap. */
    const proactiveSwitch = async (account: string, percent: number) => {
      if (proactivePending) return;
      proactivePending = true;
      try {
        const moment = await waitForQuietMoment({
          busy: () => sessions.anyWorking(),
          graceMs: config.monitor.proactiveGraceMs,
          checkEveryMs: 250,
          now,
          sleep,
        });
        if (stopping) return;
        logger.info({ account, percent, ...moment }, moment.quiet ? 'proactive switch at a quiet moment' : 'proactive switch: the grace ran out with sessions still working');
        await requestInBackground({ trigger: 'proactive', account, reason: `usage at ${percent}% (monitor.proactivePercent ${String(config.monitor.proactivePercent)}%)` });
      } finally {
        proactivePending = false;
      }
    };
    const monitor = new Monitor({
      config,
      store,
      sessions,
      tmux,
      logger: logger.child({ part: 'monitor' }),
      now,
      activeAccount,
      ...(options.sources ? { sources: options.sources } : {}),
      onLimit: (event) => {
        metrics.limitEvents.inc({ source: event.source });
        void requestInBackground({ trigger: 'limit', account: event.account, reason: event.text ?? event.kind });
      },
      onNearLimit: (account, percent) => void proactiveSwitch(account, percent),
      onPromptSubmitted: (session, prompt) => { pool.receipts.note(session, prompt); },
    });
    const mon = monitor;

    const recovery = await switcher.recover();
    logger.info({ recovery }, 'state checked at start');
    // A limit hit while the daemon was down (or before it could act) stands in the transcripts.
    for (const event of await standingLimits(config, store.listSessions(), activeAccount(), now())) {
      try {
        mon.handleLimit(event);
      } catch (err) {
        logger.warn({ session: event.session, err: describeError(err) }, 'a standing limit could not be recorded');
      }
    }

    const socket = await startControlSocket(daemonSocketPath(config), {
      logger: logger.child({ part: 'socket' }),
      onEvent: (message) => { mon.handleControlEvent(message); },
      onRequest: async (message) => {
        switch (message.command) {
          case 'switch': {
            const args = (message.args ?? {}) as { account?: string | null };
            return request({ trigger: 'manual', target: args.account ?? null, reason: 'manual switch' });
          }
          case 'status':
            return buildStatus(config, store, await layout.linkedAccount(), now());
          case 'ping':
            return { pid: process.pid };
          default:
            throw new Error(`unknown command: ${message.command}`);
        }
      },
    });
    cleanups.push(() => socket.close());

    const watcher = watchTranscripts({
      projectsDir: join(config.sharedDir, 'projects'),
      parseLine: parseTranscriptLine,
      onSignal: (signal) => { mon.handleTranscript(signal); },
      logger: logger.child({ part: 'transcripts' }),
      ...(options.transcriptRescanMs ? { rescanMs: options.transcriptRescanMs } : {}),
    });
    cleanups.push(() => { watcher.close(); });

    const health = () => checkHealth({ config, store, tmux, now: now() });

    let httpUrl: string | null = null;
    if (options.http !== false) {
      const app = createHttpApp({
        health,
        status: async () => buildStatus(config, store, await layout.linkedAccount(), now()),
        requestSwitch: async (account) => {
          const outcome = await request({ trigger: 'manual', target: account, reason: 'manual switch (HTTP)' });
          return { ok: outcome.result === 'done' || outcome.result === 'skipped', message: describeOutcome(outcome) };
        },
        metrics: metrics.registry,
        token: config.server.token,
        hooks: { token: ensureHookToken(config.stateDir), deliver: (event) => { mon.handleControlEvent(event); } },
      });
      const server = await startHttpServer(app, { host: config.server.host, port: config.server.port });
      httpUrl = server.url;
      cleanups.push(() => server.close());
      // Hooks go to the bound port (port 0 included): every account's settings follow it.
      cleanups.push(await announceHookListener(config, server.url, installedCommands(config), (account, line) => { logger.info({ account }, line); }));
    }

    /**
     * Scheduled returns and retries whose time has come. A job is deleted only once its
     * request has run (and did not reschedule it), so a crash in between keeps it.
     */
    const runningJobs = new Set<string>();
    const runDueJobs = () => {
      for (const job of store.dueJobs(now())) {
        if (runningJobs.has(job.key)) continue;
        const req: SwitchRequest | null =
          job.key === RETURN_JOB ? { trigger: 'return', reason: 'scheduled return to the preferred account' } : job.key === RETRY_JOB ? { trigger: 'retry', account: store.getActiveAccount(), reason: 'scheduled retry' } : null;
        if (!req) continue;
        runningJobs.add(job.key);
        void requestInBackground(req).finally(() => {
          runningJobs.delete(job.key);
          try {
            const current = store.listJobs().find((j) => j.key === job.key);
            if (current?.runAt.getTime() === job.runAt.getTime()) store.deleteJob(job.key);
          } catch (err) {
            logger.warn({ job: job.key, err: describeError(err) }, 'a finished job could not be cleared');
          }
        });
      }
    };

    // A tick lists the pool's panes with their last output time, then reads only the screens
    // that changed: over the control connection, no process either way.
    const poll = oneAtATime(async () => {
      try {
        await mon.pollScreens(await pool.poolPanes());
      } catch (err) {
        logger.debug({ err: describeError(err) }, 'screen poll failed');
      }
    });
    /**
     * The pool must not stay on an account the ledger says is exhausted (a limit learnt at
     * start, or one already known when a new one was reported): ask for a swap, unless one is
     * already scheduled (a retry after a cooldown, or until some account resets).
     */
    const leaveExhaustedAccount = () => {
      const active = store.getActiveAccount();
      if (!active || store.getFlag(PARTIAL_SWAP_FLAG).set) return;
      if (isAvailable(store.getLedgerEntry(active) ?? undefined, now())) return;
      if (store.listJobs().some((j) => j.key === RETRY_JOB)) return;
      logger.warn({ account: active }, 'the pool is on an exhausted account: asking for a swap');
      void requestInBackground({ trigger: 'limit', account: active, reason: `${active} is exhausted (ledger)` });
    };
    const reconciling = oneAtATime(async () => {
      try {
        runDueJobs();
        leaveExhaustedAccount();
        await pool.reconcile();
        const sessions = store.listSessions();
        for (const state of ['idle', 'working', 'limited', 'starting', 'dead']) metrics.sessions.set({ state }, sessions.filter((s) => s.state === state).length);
      } catch (err) {
        logger.warn({ err: describeError(err) }, 'reconcile failed');
      }
    });
    // Neither runs during a swap (the swap owns the pool) nor once stopping has begun.
    const pollScreens = () => (switcher.busy || stopping ? Promise.resolve() : poll.run());
    const reconcile = () => (switcher.busy || stopping ? Promise.resolve() : reconciling.run());

    await reconcile();
    const pollTimer = setInterval(() => void pollScreens(), config.monitor.pollIntervalMs);
    // Hooks and screens tell of a session's life between passes; a dead one waits at most one pass.
    const reconcileTimer = setInterval(() => void reconcile(), options.reconcileMs ?? 5000);
    cleanups.push(() => {
      clearInterval(pollTimer);
      clearInterval(reconcileTimer);
    });

    notifier.notify({ kind: 'daemon-started', text: `claude-failover started on ${store.getActiveAccount() ?? '(no account)'}; ${store.listSessions().length} session(s) managed.` });
    logger.info({ active: store.getActiveAccount(), http: httpUrl, socket: daemonSocketPath(config) }, 'daemon running');

    let stopped = false;
    return {
      config,
      store,
      tmux,
      pool,
      switcher,
      monitor: mon,
      notifier,
      httpUrl,
      status: async () => buildStatus(config, store, await layout.linkedAccount(), now()),
      health,
      requestSwitch: request,
      tick: async () => {
        await reconcile();
        await pollScreens();
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        stopping = true;
        clearInterval(pollTimer);
        clearInterval(reconcileTimer);
        // A swap in flight finishes (its journal would repair it anyway), within reason.
        let giveUp: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all([switcher.idle(), poll.running(), reconciling.running()]), new Promise<void>((resolve) => (giveUp = setTimeout(resolve, 30_000)))]);
        clearTimeout(giveUp);
        notifier.notify({ kind: 'daemon-stopped', text: 'claude-failover stopped; the sessions keep running.' });
        await notifier.flush(3000);
        await runCleanups();
        logger.info('daemon stopped');
      },
    };
  } catch (err) {
    await runCleanups();
    throw err;
  }
}

/**
 * A crash at a chosen journal step, for the crash-recovery tests (like a database's
 * failpoints): `CLAUDE_FAILOVER_FAILPOINT=<step>` kills the daemon with SIGKILL right
 * after that step is written.
 */
function failpoint(step: SwapStep): void {
  if (process.env.CLAUDE_FAILOVER_FAILPOINT === step) process.kill(process.pid, 'SIGKILL');
}
