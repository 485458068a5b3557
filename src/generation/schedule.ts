import type { DurationWindow } from './durations.js';

/**
 * When to ask the provider again about a generation. Pure, so the policy can be read and tested
 * apart from the timers that carry it out.
 *
 * The provider's reference client asks every 10 s, so a finished track waits 5 s on average before
 * anyone notices. Generations take longer the more music is asked for, so the first check comes
 * when a short track could be done, checks are dense while completion is likely, and they thin out
 * for jobs that run long (they are rarer, and a few seconds matter less after minutes). Once the
 * bot has seen enough finished jobs, it checks where jobs of the same length finished (see
 * `durations.ts`): nothing before that window, every `denseIntervalMs` inside it.
 */
export interface ScheduleOptions {
  /** Delay before the first check after submission. */
  firstPollMs: number;
  /** Shortest and longest gap between two checks. */
  minIntervalMs: number;
  maxIntervalMs: number;
  /** Gap as a fraction of the time the job has been running. */
  growth: number;
  /** Cap on the backoff after failed checks. */
  maxBackoffMs: number;
  /** Gap between checks inside the window where a job is predicted to finish. */
  denseIntervalMs: number;
}

export const defaultSchedule: ScheduleOptions = {
  firstPollMs: 2_000,
  minIntervalMs: 1_000,
  maxIntervalMs: 8_000,
  growth: 0.15,
  maxBackoffMs: 60_000,
  denseIntervalMs: 1_000,
};

export interface PollState {
  /** Time since the provider accepted the job. */
  elapsedMs: number;
  /** Failed checks in a row (network, 5xx, 429). */
  consecutiveFailures: number;
  /** The provider asked us to wait this long (a 429's Retry-After). */
  retryAfterMs?: number;
  /** Where jobs like this one finished before, once the bot has seen enough of them. */
  window?: DurationWindow | undefined;
}

/**
 * The first check: where the earliest similar jobs finished, or a fixed delay before the bot has
 * learned anything.
 */
export function firstPollDelay(options: ScheduleOptions, window: DurationWindow | undefined): number {
  return Math.round(
    window === undefined ? options.firstPollMs : Math.max(options.denseIntervalMs / 2, window.lowMs),
  );
}

/** Milliseconds until the next check. `random` is in [0, 1) and spreads retries apart. */
export function nextPollDelay(state: PollState, options: ScheduleOptions, random = Math.random()): number {
  if (state.consecutiveFailures > 0) {
    const exponential = options.minIntervalMs * 2 ** Math.min(state.consecutiveFailures, 16);
    const backoff = Math.min(options.maxBackoffMs, exponential) * (0.5 + random * 0.5);
    return Math.round(Math.max(backoff, state.retryAfterMs ?? 0));
  }
  const { window, elapsedMs } = state;
  // With a learned window: wait for it, check densely inside it, and fall back to the growing
  // gaps only for a job that outlives it.
  if (window !== undefined && elapsedMs < window.highMs) {
    return Math.round(
      elapsedMs < window.lowMs
        ? Math.max(options.denseIntervalMs / 2, window.lowMs - elapsedMs)
        : options.denseIntervalMs,
    );
  }
  const interval = elapsedMs * options.growth;
  return Math.round(Math.min(options.maxIntervalMs, Math.max(options.minIntervalMs, interval)));
}
