import type { RealClaudeSection } from '../real-claude.js';
import type { Spread } from './summary.js';

const LIMIT_TARGET_P95_MS = 1500;
const HOOK_TARGET_P95_MS = 20;
const r1 = (n: number) => (Number.isFinite(n) ? String(Math.round(n * 10) / 10) : '–');
const r2 = (n: number) => (Number.isFinite(n) ? String(Math.round(n * 100) / 100) : '–');
const row = (label: string, s: Spread, extra: readonly string[] = []) => `| ${[label, ...extra, String(s.n), r1(s.p50Ms), r1(s.p95Ms), r1(s.maxMs)].join(' | ')} |`;
const verdict = (p95: number, target: number) => (Number.isFinite(p95) ? (p95 <= target ? `met (${r1(p95)} ≤ ${String(target)} ms)` : `MISSED (${r1(p95)} > ${String(target)} ms)`) : 'not measured');

/** The real Claude Code part of latest.md. */
export function renderRealClaude(section: RealClaudeSection): string[] {
  const head = [`# Real Claude Code ${section.version} (${section.date})`, ''];
  if (section.status !== 'measured') return [...head, `**${section.status.toUpperCase()}**: ${section.reason}`, ''];
  const out = [
    ...head,
    `Offline, in a loopback-only network namespace, against the stand-in Messages API; ${String(section.cores)} cores, load average ${section.loadAverage.before.map(r2).join(' / ')} before and ${section.loadAverage.after.map(r2).join(' / ')} after (1 / 5 / 15 min), ${String(section.wallSeconds)} s in all.`,
    '',
  ];
  for (const limit of section.limits) {
    out.push(
      `## Limit → first request on the new account (429 ${limit.limitDelayMs > 0 ? `after ${String(limit.limitDelayMs)} ms` : 'at once'})`,
      '',
      `One dedicated session, accounts alpha and beta; the stand-in answers alpha's task with the 5-hour 429 ${limit.limitDelayMs > 0 ? `after holding it ${String(limit.limitDelayMs)} ms (the session is working meanwhile)` : 'at once'}. From that 429 to the first request with beta's token for the same conversation. ${String(limit.trials)} runs: ${String(limit.limited)} reached the limit, **${String(limit.notContinued)} never continued**${limit.errors.length > 0 ? `, ${String(limit.errors.length)} failed before a figure` : ''}; continuation typed more than once in ${String(limit.retypedContinuations)}. Detected by: ${Object.entries(limit.detectedBy).map(([k, v]) => `${k} ${String(v)}`).join(', ')}. Target p95 ≤ ${String(LIMIT_TARGET_P95_MS)} ms: **${verdict(limit.limitToFirstRequest.p95Ms, LIMIT_TARGET_P95_MS)}**.`,
      '',
      '| | runs | p50 ms | p95 ms | max ms |',
      '| --- | --- | --- | --- | --- |',
      row('429 sent → first request on beta', limit.limitToFirstRequest),
      row('429 sent → the continuation turn on beta', limit.limitToContinuationTurn),
      '',
      'Where the time goes (each part from one moment of a run to the next; p50s add up to about the whole):',
      '',
      '| part | from → to | runs | p50 ms | p95 ms | max ms |',
      '| --- | --- | --- | --- | --- | --- |',
      ...limit.breakdown.map((b) => row(b.part, b, [b.span])),
      row('(new process up)', limit.sessionStartHook, ['"session started" → its SessionStart hook at the daemon (a command hook)']),
      '',
    );
    const at = (from: number | null, to: number | null) => (from !== null && to !== null ? String(to - from) : '–');
    out.push(
      'Each run (ms after the 429):',
      '',
      '| run | detected (by) | snapshot saved | session started | first typing | typings | UserPromptSubmit | first request on beta |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...limit.runs.map(
        (t, i) =>
          `| ${String(i + 1)} | ${at(t.limitSentAt, t.detectedAt)} (${t.detectedBy ?? '–'}) | ${at(t.limitSentAt, t.steps.saved ?? null)} | ${at(t.limitSentAt, t.relaunchedAt)} | ${at(t.limitSentAt, t.continuationTypedAt)} | ${String(t.continuationTypings)} | ${at(t.limitSentAt, t.continuationSubmitReceivedAt)} | ${t.firstBetaRequestAt === null ? '**never**' : at(t.limitSentAt, t.firstBetaRequestAt)} |`,
      ),
      '',
    );
    if (limit.errors.length > 0) out.push('Runs that failed before a figure:', '', ...limit.errors.map((e) => `- ${e.split('\n')[0] ?? ''}`), '');
    out.push(
      `## Hook delivery to the daemon (HTTP hooks; the runs above)`,
      '',
      `From what makes Claude Code fire the hook to the daemon logging its receipt (\`POST /hooks\`); each figure is an upper bound on the delivery itself, since it includes the CLI's own work before it fires. Target p95 ≤ ${String(HOOK_TARGET_P95_MS)} ms.`,
      '',
      '| event | from | samples | p50 ms | p95 ms | max ms |',
      '| --- | --- | --- | --- | --- | --- |',
      ...Object.entries(limit.hookDelivery).map(([event, s]) => row(event, s, [s.cause])),
      '',
    );
  }
  const cpu = section.hookCpu;
  if (cpu) {
    const styles = [
      ['none', 'no hooks'],
      ['http', 'HTTP hooks to the daemon (what init writes for this version)'],
      ['command', 'command hooks: the Node relay `claude-failover hook …`'],
    ] as const;
    out.push(
      '## The CPU a hook event costs Claude Code',
      '',
      `Three sessions of the real CLI answer the same prompts in interleaved rounds (${String(cpu.cli.none.prompts)} prompts each); each prompt fires ${String(cpu.hookEventsPerPrompt)} hook events (UserPromptSubmit, Stop). CPU = user + system of the CLI process and of its reaped children (a command hook's processes), from /proc/<pid>/stat.`,
      '',
      '| settings | prompts | CPU ms per prompt | per round | wall ms per prompt | idle CLI CPU % |',
      '| --- | --- | --- | --- | --- | --- |',
      ...styles.map(([style, label]) => {
        const f = cpu.cli[style];
        return `| ${label} | ${String(f.prompts)} | ${r1(f.cpuMsPerPrompt)} | ${f.roundsMsPerPrompt.map(r1).join(', ')} | ${r1(f.wallMsPerPrompt)} | ${r2(f.idleCpuPercent)} |`;
      }),
      '',
      `Per hook event, against no hooks: **HTTP ${r1(cpu.perEventMs.http)} ms**, **command relay ${r1(cpu.perEventMs.command)} ms** of CPU (the spread between rounds shows the noise).`,
      '',
      `The HTTP session's hooks went through a pass-through in front of the daemon: from a hook request's first bytes leaving Claude Code to the daemon's \`hook\` line, ${String(cpu.httpTransit.n)} hooks: p50 ${r1(cpu.httpTransit.p50Ms)} ms, p95 **${r1(cpu.httpTransit.p95Ms)} ms**, max ${r1(cpu.httpTransit.maxMs)} ms (target p95 ≤ ${String(HOOK_TARGET_P95_MS)} ms: ${verdict(cpu.httpTransit.p95Ms, HOOK_TARGET_P95_MS)}).`,
      '',
      'Each command Claude Code could run for an event, alone (`sh -c`, as the CLI runs it; bash `times` over all runs, the daemon listening):',
      '',
      '| command | runs | CPU ms per run | wall ms per run |',
      '| --- | --- | --- | --- |',
      ...Object.entries(cpu.processes).map(([name, p]) => `| ${name} | ${String(p.runs)} | ${r2(p.cpuMsPerRun)} | ${r1(p.wallMsPerRun)} |`),
      '',
    );
  } else if (section.hookCpuError) {
    out.push('## The CPU a hook event costs Claude Code', '', `**FAILED**: ${section.hookCpuError}`, '');
  }
  return out;
}
