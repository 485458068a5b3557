import { worthAnEdit } from './progress.js';
import type { Generation } from './ports.js';
import type { JobSteps, Run } from './steps.js';

/*
 * The order every job goes through before the provider works on it, whichever queue carries it:
 * in line for a slot, admitted, then submitted (or its earlier submission picked up), then shown
 * as generating. The in-process queue runs it in one go; the Redis worker runs it one step at a
 * time, parking the job between. Each backend owns only how it waits (its gate, its timers).
 */

/**
 * The job waits at `position` (1 = next). Returns whether the reply is asked to show it, which it
 * is when the move from `shown` is worth an edit.
 */
export function waitInLine(run: Run, position: number, shown: number | undefined): boolean {
  run.job.phase = 'queued';
  run.job.queuePosition = position;
  if (!worthAnEdit(shown, position)) return false;
  run.progress.request();
  return true;
}

/** The job has its slot: it is no longer anywhere in line. */
export function leaveLine(run: Run): void {
  run.job.queuePosition = undefined;
}

/**
 * Submits an admitted job, or picks up the generation it already has (resumed after a restart:
 * never submitted twice), and shows it as generating. Resolves with the generation, or undefined
 * when the job has ended (the submission failed, or a member cancelled while it went out).
 * `beforeLedger` runs as soon as the provider has answered (see `JobSteps.submit`).
 */
export async function startGeneration(
  steps: JobSteps,
  run: Run,
  beforeLedger?: (generationId: string, submittedAt: number) => Promise<void>,
): Promise<Generation | undefined> {
  const { job } = run;
  let generation: Generation | undefined;
  if (job.state.phase === 'submitted') {
    generation = { generationId: job.state.generationId, submittedAt: job.state.submittedAt };
    run.logger.info('resuming a submitted generation');
  } else {
    generation = await steps.submit(run, beforeLedger);
    if (generation === undefined) return undefined;
  }
  // The provider has it, but the member no longer wants it: the bot stops waiting for it.
  if (job.cancelledBy !== undefined) {
    await steps.endCancelled(run);
    return undefined;
  }
  job.phase = 'generating';
  run.progress.request();
  return generation;
}
