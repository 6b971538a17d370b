/** A pool session as the switcher saw it before a swap. */
export interface SessionSnapshot {
  readonly name: string;
  readonly paneId: string | null;
  readonly sessionId: string | null;
  readonly cwd: string;
  readonly account: string | null;
  /**
   * It was mid-task (or stopped by the limit mid-task) when the pool was saved. Whether it gets
   * the continuation prompt is decided from its transcript once it has stopped; this is the
   * fallback when there is no transcript to read.
   */
  readonly working: boolean;
}

/**
 * A continuation prompt's fate: not needed (the conversation was answered), delivered
 * (Claude Code confirmed it), or not delivered (typed again and again, never confirmed).
 */
export type Continuation = 'not-needed' | 'delivered' | 'not-delivered';

export interface RelaunchOutcome {
  readonly name: string;
  readonly sessionId: string | null;
  readonly resumed: boolean;
  /** The continuation prompt was delivered (Claude Code confirmed it). */
  readonly prompted: boolean;
  readonly continuation: Continuation;
  /** Relaunched and, when it needed one, continued: a session that really moved. */
  readonly ok: boolean;
  readonly error: string | null;
}

/** Queued work: how many autonomous sessions it wants, and which sessions hold a task. */
export interface PoolDemand {
  readonly autonomous: number;
  readonly hasTask: (name: string) => boolean;
}

/** A task's prompt handed to a session: delivered (confirmed by Claude Code) in conversation `sessionId`. */
export interface TaskDelivery {
  readonly delivered: boolean;
  readonly sessionId: string | null;
  readonly error: string | null;
}
