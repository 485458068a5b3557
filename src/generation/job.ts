/**
 * Where a request is in its life, as a type that says what it has. A job that has been submitted
 * always carries its generation ID; one that is delivering carries what the provider said when it
 * finished. Nothing has to be filled in with `?? ''`: a step that needs a generation ID takes it
 * from a state that has one, and the transitions below refuse any other order.
 */
export type JobState =
  /** Accepted and waiting for a slot; nothing sent to the provider. */
  | { readonly phase: 'requested' }
  /**
   * The "submitting" mark is written and the POST is (or was, before a crash) on its way. Found
   * like this after a restart, the job is submitted again: the provider may have charged once.
   */
  | { readonly phase: 'submitting'; readonly since: number }
  | { readonly phase: 'submitted'; readonly generationId: string; readonly submittedAt: number }
  | {
      readonly phase: 'delivering';
      readonly generationId: string;
      readonly submittedAt: number;
      readonly finished: FinishedGeneration;
    }
  | { readonly phase: 'ended'; readonly outcome: JobOutcome; readonly generationId: string | undefined };

/** What the provider said when the track was ready: what delivery needs. */
export interface FinishedGeneration {
  readonly audioUrl: string;
  readonly creditsUsed: number | undefined;
  /** Estimated time the provider spent, from submission. */
  readonly durationMs: number;
}

export type JobOutcome = 'completed' | 'failed' | 'cancelled';

/** A transition asked for in a state it cannot leave that way: a bug, never a member's doing. */
export class JobTransitionError extends Error {
  constructor(from: JobState['phase'], to: string) {
    super(`a job cannot go from ${from} to ${to}`);
    this.name = 'JobTransitionError';
  }
}

export const requested: JobState = { phase: 'requested' };

/** The mark before the POST. From `submitting` again when a restart resubmits. */
export function submitting(state: JobState, at: number): JobState {
  if (state.phase !== 'requested' && state.phase !== 'submitting')
    throw new JobTransitionError(state.phase, 'submitting');
  return { phase: 'submitting', since: at };
}

export function submitted(state: JobState, generationId: string, at: number): JobState {
  if (state.phase !== 'submitting') throw new JobTransitionError(state.phase, 'submitted');
  if (generationId.trim() === '') throw new RangeError('a submitted job needs a generation ID');
  return { phase: 'submitted', generationId, submittedAt: at };
}

export function delivering(state: JobState, finished: FinishedGeneration): JobState {
  if (state.phase === 'delivering') return { ...state, finished };
  if (state.phase !== 'submitted') throw new JobTransitionError(state.phase, 'delivering');
  return { phase: 'delivering', generationId: state.generationId, submittedAt: state.submittedAt, finished };
}

export function ended(state: JobState, outcome: JobOutcome): JobState {
  if (state.phase === 'ended') throw new JobTransitionError(state.phase, `ended (${outcome})`);
  if (outcome === 'completed' && state.phase !== 'delivering')
    throw new JobTransitionError(state.phase, 'ended (completed)');
  return { phase: 'ended', outcome, generationId: generationOf(state) };
}

/** The generation ID, once the provider has given one. */
export function generationOf(state: JobState): string | undefined {
  return state.phase === 'submitted' || state.phase === 'delivering' || state.phase === 'ended'
    ? state.generationId
    : undefined;
}

/** When the provider accepted the job, once it has. */
export function submittedAtOf(state: JobState): number | undefined {
  return state.phase === 'submitted' || state.phase === 'delivering' ? state.submittedAt : undefined;
}

/**
 * A job's state as the ledger and the queue's step data hold it: the generation ID (from either,
 * the step data being written first), when it was submitted, and whether the "submitting" mark
 * was written. The step data wins where the ledger is behind (its write was still being retried).
 */
export function stateFromRecords(records: {
  generationId: string | null | undefined;
  submittedAt: number | null | undefined;
  submittingSince: number | null | undefined;
  fallbackTime: number;
}): JobState {
  const { generationId, submittedAt, submittingSince, fallbackTime } = records;
  if (generationId !== null && generationId !== undefined && generationId.trim() !== '') {
    return { phase: 'submitted', generationId, submittedAt: submittedAt ?? fallbackTime };
  }
  if (submittingSince !== null && submittingSince !== undefined)
    return { phase: 'submitting', since: submittingSince };
  return requested;
}
