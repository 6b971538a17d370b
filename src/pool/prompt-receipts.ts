/**
 * The prompts Claude Code said it received (its `UserPromptSubmit` hook), by pool session:
 * what proves a typed prompt was submitted. Only the latest per session is kept. Also which
 * sessions a prompt is being typed into right now, so nothing else sends keys there.
 */
export class PromptReceipts {
  private readonly latest = new Map<string, { readonly prompt: string; readonly at: number }>();
  private readonly typing = new Map<string, number>();

  /** A delivery into `session` begins; the returned function ends it. */
  typingInto(session: string): () => void {
    this.typing.set(session, (this.typing.get(session) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (this.typing.get(session) ?? 1) - 1;
      if (left > 0) this.typing.set(session, left);
      else this.typing.delete(session);
    };
  }

  /** Whether a prompt is being typed into `session` now. */
  beingTyped(session: string): boolean {
    return this.typing.has(session);
  }

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
