import { ProviderError } from '../aiml/errors.js';
import type { Logger } from '../log.js';
import { MinHeap } from './heap.js';
import type { Clock, Provider } from './ports.js';
import { finishedShare, type DurationModel, type DurationWindow } from './durations.js';
import { firstPollDelay, nextPollDelay, type ScheduleOptions } from './schedule.js';

export type TrackOutcome =
  | {
      kind: 'completed';
      audioUrl: string;
      creditsUsed: number | undefined;
      /** Estimated time from submission to the provider finishing: midway between the last two checks. */
      durationMs: number;
    }
  | { kind: 'failed'; message: string; creditsUsed: number | undefined }
  | { kind: 'provider-error'; error: ProviderError }
  | { kind: 'timed-out'; waitedMs: number }
  | { kind: 'cancelled' }
  | { kind: 'stopped' };

/** An outcome and the number of status checks it cost. */
export type TrackResult = TrackOutcome & { polls: number };

export interface TrackerOptions {
  provider: Pick<Provider, 'poll'>;
  clock: Clock;
  logger: Logger;
  schedule: ScheduleOptions;
  /** How long after submission a generation may run before the bot stops waiting. */
  timeoutMs: number;
  /** Status checks in flight at once, across all jobs. */
  maxConcurrentPolls: number;
  /** Learns how long generations take, and predicts where each will finish. */
  durations?: DurationModel;
  /**
   * Status checks per second across all jobs (`POLL_RATE_LIMIT`). When more are due than this
   * allows, the checks go to the jobs most likely to have finished since they were last checked.
   */
  pollRateLimit?: number;
  random?: () => number;
}

interface Entry extends CheckState {
  /** When the last check was sent (the submission, before the first). */
  lastPollAt: number;
  polls: number;
  settle: (outcome: TrackOutcome) => void;
}

/**
 * One scheduler for every generation in flight: a heap of due times and a single timer armed for
 * the earliest, instead of a sleeping loop per request. Checks run with bounded concurrency, so a
 * slow provider answer delays only the checks behind it in line, never the timer.
 */
export class Tracker {
  private readonly entries = new Map<string, Entry>();
  private readonly due = new MinHeap<Entry>();
  /** Due, waiting for a free check slot or for the poll budget. */
  private ready: Entry[] = [];
  /** Entries before this index in `ready` have been taken. */
  private readyHead = 0;
  private readonly budget: TokenBucket | undefined;
  private inFlight = 0;
  private armedAt: number | undefined;
  private cancelTimer: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly options: TrackerOptions) {
    const rate = options.pollRateLimit;
    this.budget = rate === undefined ? undefined : new TokenBucket(rate, options.clock.now());
  }

  /** Jobs being tracked. */
  get size(): number {
    return this.entries.size;
  }

  /** Follows one generation until it ends. Resolves, never rejects. */
  track(
    generationId: string,
    logger: Logger,
    startedAt = this.options.clock.now(),
    lengthSeconds?: number,
  ): Promise<TrackResult> {
    if (this.stopped) return Promise.resolve({ kind: 'stopped', polls: 0 });
    const window = lengthSeconds === undefined ? undefined : this.options.durations?.predict(lengthSeconds);
    return new Promise<TrackResult>((resolve) => {
      const entry: Entry = {
        generationId,
        logger,
        startedAt,
        lengthSeconds,
        window,
        lastPollAt: startedAt,
        deadline: startedAt + this.options.timeoutMs,
        failures: 0,
        retryAfterMs: undefined,
        unknownStatuses: new Set(),
        polls: 0,
        settle: (outcome) => {
          this.entries.delete(generationId);
          logger.debug({ outcome: outcome.kind, polls: entry.polls }, 'tracking ended');
          resolve({ ...outcome, polls: entry.polls });
        },
      };
      this.entries.set(generationId, entry);
      this.schedule(entry, startedAt + firstPollDelay(this.options.schedule, window));
    });
  }

  /** Stops following one generation; its `track()` resolves as `cancelled`. */
  cancel(generationId: string): void {
    this.entries.get(generationId)?.settle({ kind: 'cancelled' });
  }

  /** Stops every check; jobs still tracked resolve as `stopped` and can be resumed elsewhere. */
  stop(): void {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    for (const entry of [...this.entries.values()]) entry.settle({ kind: 'stopped' });
  }

  private schedule(entry: Entry, at: number): void {
    // The last check happens at the deadline itself, so a job is never dropped early.
    this.due.push(Math.min(at, entry.deadline), entry);
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    let next = this.due.peekKey();
    // Checks waiting only for the budget go when the next batch of tokens does.
    if (this.waitingCount() > 0 && this.budget && this.inFlight < this.options.maxConcurrentPolls) {
      const token = this.budget.readyAt(this.budgetBatch());
      next = next === undefined ? token : Math.min(next, token);
    }
    if (next === undefined || this.inFlight >= this.options.maxConcurrentPolls) return;
    if (this.armedAt !== undefined && this.armedAt <= next) return;
    this.cancelTimer?.();
    this.armedAt = next;
    this.cancelTimer = this.options.clock.setTimer(
      () => {
        this.armedAt = undefined;
        this.cancelTimer = undefined;
        this.runDue();
      },
      Math.max(0, next - this.options.clock.now()),
    );
  }

  private runDue(): void {
    const now = this.options.clock.now();
    for (let key = this.due.peekKey(); key !== undefined && key <= now; key = this.due.peekKey()) {
      const entry = this.due.pop();
      if (entry) this.ready.push(entry);
    }
    // Under a budget the waiting checks are ranked, most likely finished first. Tokens are spent in
    // batches (50 ms worth), so a tracker with thousands waiting ranks them a few times a second
    // rather than once per check.
    if (this.budget && this.waitingCount() > 0) {
      if (!this.budget.has(now, this.budgetBatch())) {
        this.arm();
        return;
      }
      this.ready = this.rankByFinishChance(
        this.ready.slice(this.readyHead).filter((entry) => this.isLive(entry)),
        now,
      );
      this.readyHead = 0;
    }
    while (
      !this.stopped &&
      this.inFlight < this.options.maxConcurrentPolls &&
      this.readyHead < this.ready.length
    ) {
      const entry = this.ready[this.readyHead];
      if (entry && this.isLive(entry)) {
        if (this.budget && !this.budget.take(now)) break;
        void this.check(entry);
      }
      this.readyHead++;
    }
    // Consumed entries are dropped now and then, not on every call: a copy per check would make
    // a drain of thousands quadratic.
    if (this.readyHead > 1024 || this.readyHead === this.ready.length) {
      this.ready = this.ready.slice(this.readyHead);
      this.readyHead = 0;
    }
    this.arm();
  }

  private isLive(entry: Entry): boolean {
    return this.entries.get(entry.generationId) === entry;
  }

  private waitingCount(): number {
    return this.ready.length - this.readyHead;
  }

  private budgetBatch(): number {
    return Math.max(1, Math.min(this.budget?.capacity ?? 1, this.waitingCount()));
  }

  /**
   * Under the budget, checks go where they most likely find a finished track: to the jobs with
   * the highest chance of having finished since their last check, given where jobs like them
   * finished before. A job at its deadline goes first, so none is dropped early.
   */
  private rankByFinishChance(entries: Entry[], now: number): Entry[] {
    return entries
      .map((entry) => ({
        entry,
        score: now >= entry.deadline ? Number.POSITIVE_INFINITY : finishChance(entry, now),
      }))
      .sort((a, b) => b.score - a.score)
      .map(({ entry }) => entry);
  }

  private async check(entry: Entry): Promise<void> {
    this.inFlight++;
    entry.polls++;
    const previousPollAt = entry.lastPollAt;
    entry.lastPollAt = this.options.clock.now();
    let next: number | undefined;
    try {
      next = await this.checkOnce(entry, previousPollAt);
    } finally {
      this.inFlight--;
    }
    if (this.stopped) return;
    if (next !== undefined && this.isLive(entry)) this.schedule(entry, next);
    // A freed slot may let a check that was waiting in line go now.
    this.runDue();
  }

  /** Returns when to check again, or undefined once the entry is settled. */
  private async checkOnce(entry: Entry, previousPollAt: number): Promise<number | undefined> {
    const verdict = await checkGeneration(this.options, entry, previousPollAt, entry.lastPollAt);
    if ('outcome' in verdict) {
      entry.settle(verdict.outcome);
      return undefined;
    }
    return verdict.nextAt;
  }
}

/** What a caller keeps about one generation between two status checks. */
export interface CheckState {
  generationId: string;
  logger: Logger;
  startedAt: number;
  lengthSeconds: number | undefined;
  window: DurationWindow | undefined;
  deadline: number;
  /** Failed checks in a row, and the wait the provider last asked for. */
  failures: number;
  retryAfterMs: number | undefined;
  /** Statuses already warned about, so a log line says it once. */
  unknownStatuses: Set<string>;
}

export type CheckVerdict =
  { outcome: Exclude<TrackOutcome, { kind: 'stopped' | 'cancelled' }> } | { nextAt: number };

/**
 * One status check and what it means: the job ended (with the finish time learned), or when to
 * check again. Shared by the in-process tracker and the queue worker, whose polls are delayed jobs.
 */
export async function checkGeneration(
  deps: Pick<TrackerOptions, 'provider' | 'clock' | 'schedule' | 'durations' | 'random'>,
  state: CheckState,
  previousPollAt: number,
  pollAt: number,
): Promise<CheckVerdict> {
  let result;
  try {
    result = await deps.provider.poll(state.generationId);
    state.failures = 0;
    state.retryAfterMs = undefined;
  } catch (error) {
    if (error instanceof ProviderError && !error.retryable && error.kind !== 'bad-response') {
      state.logger.error({ err: error, kind: error.kind }, 'status check failed for good');
      return { outcome: { kind: 'provider-error', error } };
    }
    state.failures++;
    state.retryAfterMs = error instanceof ProviderError ? error.details.retryAfterMs : undefined;
    state.logger.warn(
      { failures: state.failures, reason: error instanceof Error ? error.message : String(error) },
      'status check failed; will retry',
    );
  }

  const now = deps.clock.now();
  if (result?.kind === 'completed') {
    // It finished between the previous check and this one; the middle is the best guess. Found at
    // the first check, it finished after the start of its window, not just after submission: the
    // middle of the whole wait would teach the model that jobs take half as long as they do.
    const durationMs = estimatedDuration(
      previousPollAt - state.startedAt,
      pollAt - state.startedAt,
      state.window,
    );
    if (state.lengthSeconds !== undefined) deps.durations?.add(state.lengthSeconds, durationMs);
    return { outcome: { ...result, durationMs } };
  }
  if (result?.kind === 'failed') return { outcome: result };
  if (result?.kind === 'pending' && !result.known && !state.unknownStatuses.has(result.status)) {
    state.unknownStatuses.add(result.status);
    state.logger.warn({ status: result.status }, 'unknown generation status; still waiting');
  }
  if (now >= state.deadline) return { outcome: { kind: 'timed-out', waitedMs: now - state.startedAt } };
  const pollState = {
    elapsedMs: now - state.startedAt,
    consecutiveFailures: state.failures,
    window: state.window,
  };
  const delay = nextPollDelay(
    state.retryAfterMs === undefined ? pollState : { ...pollState, retryAfterMs: state.retryAfterMs },
    deps.schedule,
    (deps.random ?? Math.random)(),
  );
  // The last check happens at the deadline itself, so a job is never dropped early.
  return { nextAt: Math.min(now + delay, state.deadline) };
}

/**
 * How long a generation took, from the two checks around its finish (milliseconds since its
 * submission): the middle of the span it finished in, which starts no earlier than its window.
 */
export function estimatedDuration(
  previousCheckMs: number,
  checkMs: number,
  window: DurationWindow | undefined,
): number {
  const since = Math.min(checkMs, Math.max(previousCheckMs, window === undefined ? 0 : window.lowMs));
  return (since + checkMs) / 2;
}

/**
 * The chance that a job finished since its last check. With a learned window, from the predicted
 * distribution of its finish time; without one, the share of the job's life not yet looked at.
 */
function finishChance(entry: Entry, now: number): number {
  const { window } = entry;
  if (window === undefined) return (now - entry.lastPollAt) / Math.max(1, now - entry.startedAt);
  const before = finishedShare(window, entry.lastPollAt - entry.startedAt);
  // A job that outlived its window: still worth a look now and then, less than a likely one.
  if (before >= 1) {
    const spread = Math.max(1, window.highMs - window.lowMs);
    return 0.05 * Math.min(1, (now - entry.lastPollAt) / spread);
  }
  return (finishedShare(window, now - entry.startedAt) - before) / (1 - before);
}

/**
 * `rate` tokens a second, holding at most 50 ms worth (at least one): checks go out nearly evenly
 * spaced, and a busy tracker ranks its waiting checks once per handful rather than once per check.
 */
class TokenBucket {
  private tokens: number;
  readonly capacity: number;

  constructor(
    private readonly rate: number,
    private refilledAt: number,
  ) {
    this.capacity = Math.max(1, rate / 20);
    this.tokens = this.capacity;
  }

  has(now: number, count: number): boolean {
    this.refill(now);
    return this.tokens >= count;
  }

  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** When `count` tokens (at most the capacity) will be there. */
  readyAt(count: number): number {
    const wanted = Math.min(count, this.capacity);
    // Whole milliseconds, rounded up: a shortfall of a rounding error would otherwise arm a timer
    // for the same instant, over and over, with the bucket never quite full enough.
    return this.tokens >= wanted
      ? this.refilledAt
      : this.refilledAt + Math.max(1, Math.ceil(((wanted - this.tokens) / this.rate) * 1000));
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.refilledAt) / 1000) * this.rate);
    this.refilledAt = now;
  }
}
