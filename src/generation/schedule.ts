import type { DurationWindow } from './durations.js';

/**
 * When to ask the provider again about a generation. Pure, so the policy can be read and tested
 * apart from the timers that carry it out.
 *
 * The provider's reference client asks every 10 s, so a finished track waits 5 s on average before
 * anyone notices. Before the bot has learned how long jobs take, the first check comes when a short
 * track could be done and the gaps grow with the time the job has run. Once it has learned (see
 * `durations.ts`), it plans the checks inside the window where a job of that length should finish
 * (`planChecks`): as few as give the target detection lag on average, denser where finishing is
 * likelier. See docs/polling.md.
 */
export interface ScheduleOptions {
  /** Delay before the first check after submission, before anything is learned. */
  firstPollMs: number;
  /** Shortest and longest gap between two checks of the unlearned schedule. */
  minIntervalMs: number;
  maxIntervalMs: number;
  /** Gap as a fraction of the time the job has been running. */
  growth: number;
  /** Cap on the backoff after failed checks. */
  maxBackoffMs: number;
  /** The detection lag a learned schedule aims at, on average (`POLL_TARGET_LAG_SECONDS`). */
  targetLagMs: number;
  /** Shortest gap between two planned checks, however likely finishing is there. */
  minGapMs: number;
}

export const defaultSchedule: ScheduleOptions = {
  firstPollMs: 2_000,
  minIntervalMs: 1_000,
  maxIntervalMs: 8_000,
  growth: 0.15,
  maxBackoffMs: 60_000,
  targetLagMs: 500,
  minGapMs: 250,
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
 * The checks for one job, as times since submission, inside its predicted window. A job that
 * finishes at s is seen at the first check after s, so a check schedule costs, on average, the
 * integral of (next check − s) over the finish-time density f. For a given number of checks that is
 * least when their density follows √f (gaps ∝ 1/√f), and then it equals (∫√f)² / (2 × checks): the
 * fewest checks that meet the target lag τ are ⌈(∫√f)² / 2τ⌉. An even window of width W thus takes
 * W / 2τ checks, 1.6 s apart for τ = 0.8 s. Where no job finishes (a gap between two humps), there
 * is no check, and each stretch where jobs do finish ends with one, so no gap spans the quiet part.
 */
export function planChecks(window: DurationWindow, targetLagMs: number, minGapMs = 0): number[] {
  const { lowMs, highMs } = window;
  const width = highMs - lowMs;
  const chances = window.density !== undefined && window.density.length > 0 ? window.density : [1];
  const total = chances.reduce((sum, p) => sum + Math.max(0, p), 0);
  if (!(width > 0) || !(total > 0) || !(targetLagMs > 0)) return [Math.round(Math.max(highMs, 0))];
  const slice = width / chances.length;
  // √f in each slice, f being the chance per millisecond given that the job ends in the window.
  const roots = chances.map((p) => Math.sqrt(Math.max(0, p) / total / slice));
  const rootIntegral = roots.reduce((sum, root) => sum + root * slice, 0);
  const checks: number[] = [];
  const add = (at: number, closesStretch: boolean) => {
    const last = checks.at(-1);
    if (last === undefined || at - last >= minGapMs) checks.push(at);
    else if (closesStretch) checks[checks.length - 1] = at;
  };
  for (let first = 0; first < roots.length;) {
    if ((roots[first] ?? 0) <= 0) {
      first++;
      continue;
    }
    let end = first;
    while (end < roots.length && (roots[end] ?? 0) > 0) end++;
    // This stretch's share of the checks: ∝ its ∫√f, which keeps the whole at the target.
    const stretch = roots.slice(first, end).reduce((sum, root) => sum + root * slice, 0);
    const count = Math.max(1, Math.ceil((stretch * rootIntegral) / (2 * targetLagMs)));
    let slot = first;
    let before = 0;
    for (let k = 1; k <= count; k++) {
      // The k-th check sits where the running integral of √f reaches k / count of the stretch.
      const wanted = (stretch * k) / count;
      while (slot < end - 1 && before + (roots[slot] ?? 0) * slice < wanted - 1e-9) {
        before += (roots[slot] ?? 0) * slice;
        slot++;
      }
      const at =
        k === count ? lowMs + end * slice : lowMs + slot * slice + (wanted - before) / (roots[slot] ?? 1);
      add(Math.min(at, highMs), k === count);
    }
    first = end;
  }
  return checks.map((at) => Math.round(at));
}

/**
 * The first check: the first one planned in the learned window, or a fixed delay before the bot
 * has learned anything.
 */
export function firstPollDelay(options: ScheduleOptions, window: DurationWindow | undefined): number {
  if (window === undefined) return options.firstPollMs;
  return Math.max(options.minGapMs, planChecks(window, options.targetLagMs, options.minGapMs)[0] ?? 0);
}

/** Milliseconds until the next check. `random` is in [0, 1) and spreads retries apart. */
export function nextPollDelay(state: PollState, options: ScheduleOptions, random = Math.random()): number {
  if (state.consecutiveFailures > 0) {
    const exponential = options.minIntervalMs * 2 ** Math.min(state.consecutiveFailures, 16);
    const backoff = Math.min(options.maxBackoffMs, exponential) * (0.5 + random * 0.5);
    return Math.round(Math.max(backoff, state.retryAfterMs ?? 0));
  }
  const { window, elapsedMs } = state;
  if (window !== undefined) {
    const next = planChecks(window, options.targetLagMs, options.minGapMs).find(
      (at) => at >= elapsedMs + options.minGapMs,
    );
    if (next !== undefined) return Math.round(next - elapsedMs);
    // The job outlived its window: start at the target's spacing and stretch the gaps the longer it
    // runs past, up to the unlearned schedule's longest.
    const beyond = Math.max(0, elapsedMs - window.highMs);
    return Math.round(
      Math.max(options.minGapMs, Math.min(options.maxIntervalMs, 2 * options.targetLagMs + beyond / 2)),
    );
  }
  const interval = elapsedMs * options.growth;
  return Math.round(Math.min(options.maxIntervalMs, Math.max(options.minIntervalMs, interval)));
}
