// Runs inside the loopback-only network namespace that bench/real-claude.ts makes
// (`unshare -n`, then `ip link set lo up`): the real Claude Code, the stand-in API, the
// daemon and tmux reach nothing but 127.0.0.1. Writes its figures as JSON to argv[2].
import { writeFileSync } from 'node:fs';
import { hookCpu, type HookCpuResult } from './hook-cpu.js';
import { limitTrial, type LimitTrial } from './limit-trial.js';
import { summarizeLimit, type LimitSummary } from './summary.js';

export interface InsideResult {
  readonly version: string;
  /** One summary per BENCH_REAL_LIMIT_DELAY_MS value, in its order. */
  readonly limits: readonly LimitSummary[];
  readonly hookCpu: HookCpuResult | null;
  readonly hookCpuError: string | null;
}

const say = (line: string) => process.stdout.write(line + '\n');
const envNumber = (name: string, fallback: number) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a whole number ≥ 1, not ${JSON.stringify(process.env[name])}`);
  return n;
};

async function main(): Promise<void> {
  const out = process.argv[2];
  const path = process.env.CLAUDE_FAILOVER_REAL_CLAUDE;
  const version = process.env.CLAUDE_FAILOVER_REAL_CLAUDE_VERSION;
  if (!out || !path || !version) throw new Error('run through bench/real-claude.ts (it installs the CLI and makes the namespace)');
  const claude = { path, version };
  const parts = new Set((process.env.BENCH_REAL_PARTS ?? 'limit,cpu').split(','));
  const trials = envNumber('BENCH_REAL_TRIALS', 10);
  const delays = (process.env.BENCH_REAL_LIMIT_DELAY_MS ?? '0').split(',').map(Number);
  if (delays.some((d) => !Number.isInteger(d) || d < 0)) throw new Error('BENCH_REAL_LIMIT_DELAY_MS is a list of whole numbers of ms ≥ 0');

  const limits: LimitSummary[] = [];
  for (const limitDelayMs of parts.has('limit') ? delays : []) {
    say(`  limit → continuation, the 429 ${limitDelayMs > 0 ? `after ${String(limitDelayMs)} ms` : 'at once'}:`);
    const runs: LimitTrial[] = [];
    const errors: string[] = [];
    for (let i = 1; i <= trials; i++) {
      try {
        const run = await limitTrial(claude, {
          continuationTimeoutMs: 30_000,
          limitDelayMs,
          onFailure: (diagnostics) => process.stderr.write(`\n${diagnostics}\n`),
        });
        runs.push(run);
        const total = run.firstBetaRequestAt === null ? 'NEVER CONTINUED' : `${String(run.firstBetaRequestAt - run.limitSentAt)} ms`;
        say(`  run ${String(i)}/${String(trials)}: limit → first request on beta ${total} (detected by ${run.detectedBy ?? '-'}; continuation typed ${String(run.continuationTypings)}×)`);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        errors.push(`run ${String(i)}: ${message}`);
        say(`  run ${String(i)}/${String(trials)} FAILED before a figure: ${message}`);
      }
    }
    limits.push(summarizeLimit(trials, limitDelayMs, runs, errors));
  }

  let cpu: HookCpuResult | null = null;
  let cpuError: string | null = null;
  if (parts.has('cpu')) {
    say('  hook CPU: three probe sessions (no hooks, HTTP hooks, command hooks), interleaved rounds…');
    try {
      cpu = await hookCpu(claude, { rounds: envNumber('BENCH_REAL_CPU_ROUNDS', 4), promptsPerRound: envNumber('BENCH_REAL_CPU_PROMPTS', 5), processRuns: envNumber('BENCH_REAL_PROCESS_RUNS', 30) });
    } catch (err) {
      cpuError = err instanceof Error ? err.message : String(err);
      say(`  hook CPU FAILED: ${cpuError}`);
    }
  }
  writeFileSync(out, JSON.stringify({ version, limits, hookCpu: cpu, hookCpuError: cpuError } satisfies InsideResult));
}

await main();
