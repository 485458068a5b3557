import { describe, expect, it } from 'vitest';
import {
  delivering,
  ended,
  generationOf,
  JobTransitionError,
  requested,
  stateFromRecords,
  submittedAtOf,
  submitted,
  submitting,
  type JobState,
} from '../../src/generation/job.js';

const finished = { audioUrl: 'https://cdn.example/a.mp3', creditsUsed: 12, durationMs: 30_000 };

describe('the job state', () => {
  it('goes requested → submitting → submitted → delivering → ended, carrying the generation ID', () => {
    const marked = submitting(requested, 1_000);
    expect(marked).toEqual({ phase: 'submitting', since: 1_000 });
    const sent = submitted(marked, 'gen-1', 1_200);
    expect([generationOf(sent), submittedAtOf(sent)]).toEqual(['gen-1', 1_200]);
    const out = delivering(sent, finished);
    expect(out).toEqual({ phase: 'delivering', generationId: 'gen-1', submittedAt: 1_200, finished });
    expect(ended(out, 'completed')).toEqual({ phase: 'ended', outcome: 'completed', generationId: 'gen-1' });
  });

  it('is marked submitting again when a restart resubmits, and only then', () => {
    expect(submitting(submitting(requested, 1), 5)).toEqual({ phase: 'submitting', since: 5 });
    const sent = submitted(submitting(requested, 1), 'gen-1', 2);
    expect(() => submitting(sent, 3)).toThrow(JobTransitionError);
  });

  it('cannot be submitted without the mark, nor with an empty generation ID', () => {
    expect(() => submitted(requested, 'gen-1', 1)).toThrow('a job cannot go from requested to submitted');
    expect(() => submitted(submitting(requested, 1), '', 2)).toThrow(RangeError);
    expect(() => submitted(submitting(requested, 1), '   ', 2)).toThrow(RangeError);
  });

  it('delivers only a submitted job, and keeps what the provider said while delivering', () => {
    expect(() => delivering(requested, finished)).toThrow(JobTransitionError);
    expect(() => delivering(submitting(requested, 1), finished)).toThrow(JobTransitionError);
    const first = delivering(submitted(submitting(requested, 1), 'gen-1', 2), finished);
    const again = delivering(first, { ...finished, creditsUsed: 13 });
    expect(again).toMatchObject({
      phase: 'delivering',
      generationId: 'gen-1',
      finished: { creditsUsed: 13 },
    });
  });

  it('completes only from delivering; fails or is cancelled from any live state; ends once', () => {
    expect(() => ended(requested, 'completed')).toThrow(JobTransitionError);
    expect(ended(requested, 'cancelled')).toEqual({
      phase: 'ended',
      outcome: 'cancelled',
      generationId: undefined,
    });
    const sent = submitted(submitting(requested, 1), 'gen-9', 2);
    expect(ended(sent, 'failed')).toEqual({ phase: 'ended', outcome: 'failed', generationId: 'gen-9' });
    expect(() => ended(ended(sent, 'failed'), 'cancelled')).toThrow(JobTransitionError);
  });

  it('has no generation before submission, and none is ever the empty string', () => {
    const early: JobState[] = [requested, submitting(requested, 1)];
    for (const state of early) expect(generationOf(state)).toBeUndefined();
  });

  it('is rebuilt from the ledger and the step data: a generation wins, then the submitting mark', () => {
    expect(
      stateFromRecords({ generationId: 'gen-1', submittedAt: 7, submittingSince: 5, fallbackTime: 1 }),
    ).toEqual({ phase: 'submitted', generationId: 'gen-1', submittedAt: 7 });
    expect(
      stateFromRecords({ generationId: null, submittedAt: null, submittingSince: 5, fallbackTime: 1 }),
    ).toEqual({ phase: 'submitting', since: 5 });
    expect(
      stateFromRecords({ generationId: '', submittedAt: null, submittingSince: null, fallbackTime: 1 }),
    ).toEqual(requested);
    expect(
      stateFromRecords({ generationId: 'gen-2', submittedAt: null, submittingSince: null, fallbackTime: 1 }),
    ).toEqual({ phase: 'submitted', generationId: 'gen-2', submittedAt: 1 });
  });
});
