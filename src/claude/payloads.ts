import { z } from 'zod';

/**
 * What Claude Code sends and writes, as far as the daemon reads it: one place that says what
 * each payload holds. Every reader `safeParse`s and skips what does not fit; unknown keys are
 * kept out of the types (Claude Code adds fields with every release).
 */

const text = z.string().min(1);
const optionalText = z.preprocess((v) => (typeof v === 'string' && v !== '' ? v : undefined), z.string().optional());

/** The JSON a hook receives on stdin (or as the body of an HTTP hook). */
export const hookPayload = z.object({
  hook_event_name: optionalText,
  session_id: optionalText,
  transcript_path: optionalText,
  cwd: optionalText,
  /** UserPromptSubmit: the prompt as submitted. */
  prompt: z.string().optional().catch(undefined),
  /** StopFailure: `rate_limit`, `authentication_failed`, `billing_error`, … */
  error: z.preprocess((v) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined), z.string().optional()),
  /** SessionStart: `startup`, `resume`, `clear`, `compact`. */
  source: optionalText,
});
export type HookPayload = z.infer<typeof hookPayload>;

const usageWindow = z.object({
  used_percentage: z.number(),
  resets_at: z.number().nullable().optional().catch(null),
});

/** The JSON the statusline command receives. */
export const statuslinePayload = z.object({
  session_id: optionalText,
  transcript_path: optionalText,
  rate_limits: z
    .object({
      five_hour: usageWindow.optional().catch(undefined),
      seven_day: usageWindow.optional().catch(undefined),
    })
    .optional()
    .catch(undefined),
});
export type StatuslinePayload = z.infer<typeof statuslinePayload>;

/** `<home>/sessions/<pid>.json`, written by a running interactive session. */
export const sessionFile = z.object({
  pid: z.number().int().positive(),
  sessionId: text,
  cwd: optionalText,
  status: z.enum(['busy', 'idle']).optional().catch(undefined),
  /** `<session>:@<window>.%<pane>` when it runs in tmux. */
  tmux: optionalText,
});
export type SessionFile = z.infer<typeof sessionFile>;

/** Parses a payload, or null when it does not fit (never throws). */
export function parsePayload<T>(schema: z.ZodType<T>, value: unknown): T | null {
  const result = schema.safeParse(value);
  return result.success ? result.data : null;
}

const contentBlock = z.looseObject({ type: z.string().optional().catch(undefined), text: z.string().optional().catch(undefined) });

/** One line of a transcript (`<home>/projects/<dir>/<session>.jsonl`), the fields the daemon reads. */
export const transcriptRecord = z.object({
  sessionId: text,
  type: z.string().optional().catch(undefined),
  cwd: optionalText,
  timestamp: optionalText,
  isMeta: z.boolean().optional().catch(undefined),
  isSidechain: z.boolean().optional().catch(undefined),
  isApiErrorMessage: z.boolean().optional().catch(undefined),
  /** `rate_limit`, `authentication_failed`, … (2.1.x; older versions wrote none). */
  error: z.string().optional().catch(undefined),
  apiError: z.string().optional().catch(undefined),
  /** The quota the API reported with a limit (newer versions). */
  quotaLimits: z
    .object({ status: z.string().optional().catch(undefined), resetsAt: z.number().optional().catch(undefined), rateLimitType: z.string().optional().catch(undefined) })
    .optional()
    .catch(undefined),
  message: z
    .object({ content: z.union([z.string(), z.array(contentBlock)]).optional().catch(undefined) })
    .optional()
    .catch(undefined),
});
export type TranscriptRecord = z.infer<typeof transcriptRecord>;

/** The text a transcript record's message carries (string content, or its text blocks joined). */
export function messageText(record: Pick<TranscriptRecord, 'message'>): string {
  const content = record.message?.content;
  if (typeof content === 'string') return content;
  return (content ?? []).map((block) => block.text ?? '').join('\n');
}
