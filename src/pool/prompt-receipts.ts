/**
 * The prompts Claude Code said it received (its `UserPromptSubmit` hook), by pool session:
 * what proves a typed prompt was submitted. Only the latest per session is kept.
 */
export class PromptReceipts {
  private readonly latest = new Map<string, { readonly prompt: string; readonly at: number }>();

  /** A `UserPromptSubmit` hook from `session` (at: wall-clock ms when it arrived). */
  note(session: string, prompt: string, at = Date.now()): void {
    this.latest.set(session, { prompt: prompt.trim(), at });
  }

  /**
   * Whether `session` reported `prompt` as submitted at or after `since` (wall-clock ms). A
   * prompt typed twice into one input box (an Enter lost, the text not) is still delivered.
   */
  received(session: string, prompt: string, since: number): boolean {
    const seen = this.latest.get(session);
    return seen !== undefined && seen.at >= since && seen.prompt.includes(prompt.trim());
  }
}
