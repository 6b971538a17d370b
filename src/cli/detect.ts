import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Command, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { parseLimitText } from '../claude/limit-text.js';
import { classifyScreen, type ScreenState } from '../claude/screen-state.js';
import { parseTranscriptLine } from '../claude/transcript-record.js';
import { hostZone, isValidZone } from '../claude/reset-time.js';

export interface Verdict {
  readonly input: string;
  readonly blocked: boolean;
  readonly kind: string | null;
  readonly resetsAt: string | null;
  readonly state: ScreenState | null;
  readonly rule: string;
}

/** What the detector concludes from one input: a transcript, a pane capture or a banner line. */
export function detect(name: string, text: string, options: { now: Date; timeZone: string }): Verdict {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (name.endsWith('.jsonl') || (lines.length > 0 && lines.every((l) => l.trimStart().startsWith('{')))) {
    // The last limit record decides, unless the conversation went on after it.
    let verdict: Verdict = { input: name, blocked: false, kind: null, resetsAt: null, state: null, rule: 'transcript:no-limit-record' };
    for (const line of lines) {
      const signal = parseTranscriptLine(line);
      if (signal?.type === 'limit') {
        verdict = { input: name, blocked: true, kind: signal.kind, resetsAt: signal.resetsAt?.toISOString() ?? null, state: null, rule: signal.resetsAt ? 'transcript:limit-record' : 'transcript:limit-record-without-reset' };
      } else if (signal?.type === 'activity' && signal.role === 'user' && verdict.blocked) {
        verdict = { input: name, blocked: false, kind: null, resetsAt: null, state: null, rule: 'transcript:activity-after-limit' };
      }
    }
    return verdict;
  }
  if (lines.length > 1) {
    const screen = classifyScreen(text, options);
    return { input: name, blocked: screen.state === 'limited', kind: screen.limit?.kind ?? null, resetsAt: screen.limit?.resetsAt?.toISOString() ?? null, state: screen.state, rule: `screen:${screen.rule}` };
  }
  const banner = parseLimitText(text, options);
  if (banner.blocked) return { input: name, blocked: true, kind: banner.kind, resetsAt: banner.resetsAt?.toISOString() ?? null, state: null, rule: `${banner.rule}${banner.resetGuessed ? ' (reset guessed)' : ''}` };
  return { input: name, blocked: false, kind: banner.warning?.kind ?? null, resetsAt: banner.warning?.resetsAt?.toISOString() ?? null, state: null, rule: banner.rule ?? 'no-limit-text' };
}

function human(v: Verdict, timeZone: string): string {
  const local = v.resetsAt ? new Date(v.resetsAt).toLocaleString('en-US', { timeZone, dateStyle: 'medium', timeStyle: 'short' }) : null;
  const verdict = v.blocked ? `LIMITED (${v.kind ?? 'unknown'})` : v.rule.startsWith('warning') ? `not blocked: a warning (${v.kind ?? 'unknown'})` : 'not limited';
  return [`${v.input}: ${verdict}`, `  rule:   ${v.rule}`, ...(v.state ? [`  screen: ${v.state}`] : []), ...(v.resetsAt ? [`  resets: ${v.resetsAt} (${local ?? ''} ${timeZone})`] : [])].join('\n');
}

export function detectCommand(): CommandUnknownOpts {
  return new Command('detect')
    .summary('show what the limit detector reads in a file')
    .description(
      'Shows what the limit detector concludes from pane captures, banner lines or transcript .jsonl files (stdin when none is given, or "-"), and why: the rule that matched and the parsed reset time.\n\n' +
        'Run it when a switch did not happen; save the pane first with `tmux capture-pane -p -t <pane> > pane.txt`.',
    )
    .argument('[files...]', 'pane captures, banner lines or transcripts')
    .option('--now <iso>', 'the moment to resolve reset times against (default: now)')
    .option('--tz <zone>', 'the IANA time zone for resets that name none (default: this host\'s)')
    .option('--json', 'one JSON object per input: input, blocked, kind, resetsAt, state, rule')
    .action((files, opts) => {
      const now = opts.now ? new Date(opts.now) : new Date();
      if (Number.isNaN(now.getTime())) {
        process.stderr.write(`claude-failover detect: --now ${opts.now ?? ''} is not a date\n`);
        process.exitCode = 2;
        return;
      }
      const timeZone = opts.tz ?? hostZone();
      if (!isValidZone(timeZone)) {
        process.stderr.write(`claude-failover detect: --tz ${timeZone} is not an IANA time zone\n`);
        process.exitCode = 2;
        return;
      }
      const inputs = files.length === 0 ? ['-'] : files;
      for (const file of inputs) {
        let text: string;
        try {
          text = readFileSync(file === '-' ? 0 : file, 'utf8');
        } catch (err) {
          process.stderr.write(`claude-failover detect: cannot read ${file}: ${err instanceof Error ? err.message : String(err)}\n`);
          process.exitCode = 1;
          continue;
        }
        const verdict = detect(file === '-' ? 'stdin' : basename(file) === file ? file : file, text, { now, timeZone });
        process.stdout.write((opts.json ? JSON.stringify(verdict) : human(verdict, timeZone)) + '\n');
      }
    });
}
