import { ProviderError } from '../aiml/errors.js';
import type { Logger } from '../log.js';
import { MinHeap } from './heap.js';
import type { Clock, Provider } from './ports.js';
import { nextPollDelay, type ScheduleOptions } from './schedule.js';

export type TrackOutcome =
  | { kind: 'completed'; audioUrl: string; creditsUsed: number | undefined }
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
  random?: () => number;
}

interface Entry {
  generationId: string;
  logger: Logger;
  startedAt: number;
  deadline: number;
  failures: number;
  retryAfterMs: number | undefined;
  unknownStatuses: Set<string>;
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
  private inFlight = 0;
  private armedAt: number | undefined;
  private cancelTimer: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly options: TrackerOptions) {}

  /** Jobs being tracked. */
  get size(): number {
    return this.entries.size;
  }

  /** Follows one generation until it ends. Resolves, never rejects. */
  track(generationId: string, logger: Logger, startedAt = this.options.clock.now()): Promise<TrackResult> {
    if (this.stopped) return Promise.resolve({ kind: 'stopped', polls: 0 });
    return new Promise<TrackResult>((resolve) => {
      const entry: Entry = {
        generationId,
        logger,
        startedAt,
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
      this.schedule(entry, startedAt + this.options.schedule.firstPollMs);
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
    const next = this.due.peekKey();
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
    while (!this.stopped && this.inFlight < this.options.maxConcurrentPolls) {
      const key = this.due.peekKey();
      if (key === undefined || key > now) break;
      const entry = this.due.pop();
      if (entry && this.entries.get(entry.generationId) === entry) void this.check(entry);
    }
    this.arm();
  }

  private async check(entry: Entry): Promise<void> {
    this.inFlight++;
    entry.polls++;
    let next: number | undefined;
    try {
      next = await this.checkOnce(entry);
    } finally {
      this.inFlight--;
    }
    if (this.stopped) return;
    if (next !== undefined && this.entries.get(entry.generationId) === entry) this.schedule(entry, next);
    // A freed slot may let a check that was waiting in line go now.
    this.runDue();
  }

  /** Returns when to check again, or undefined once the entry is settled. */
  private async checkOnce(entry: Entry): Promise<number | undefined> {
    const { clock, provider, schedule } = this.options;
    let result;
    try {
      result = await provider.poll(entry.generationId);
      entry.failures = 0;
      entry.retryAfterMs = undefined;
    } catch (error) {
      if (error instanceof ProviderError && !error.retryable && error.kind !== 'bad-response') {
        entry.logger.error({ err: error, kind: error.kind }, 'status check failed for good');
        entry.settle({ kind: 'provider-error', error });
        return undefined;
      }
      entry.failures++;
      entry.retryAfterMs = error instanceof ProviderError ? error.details.retryAfterMs : undefined;
      entry.logger.warn(
        { failures: entry.failures, reason: error instanceof Error ? error.message : String(error) },
        'status check failed; will retry',
      );
    }

    const now = clock.now();
    if (result?.kind === 'completed' || result?.kind === 'failed') {
      entry.settle(result);
      return undefined;
    }
    if (result?.kind === 'pending' && !result.known && !entry.unknownStatuses.has(result.status)) {
      entry.unknownStatuses.add(result.status);
      entry.logger.warn({ status: result.status }, 'unknown generation status; still waiting');
    }
    if (now >= entry.deadline) {
      entry.settle({ kind: 'timed-out', waitedMs: now - entry.startedAt });
      return undefined;
    }
    const state = { elapsedMs: now - entry.startedAt, consecutiveFailures: entry.failures };
    const delay = nextPollDelay(
      entry.retryAfterMs === undefined ? state : { ...state, retryAfterMs: entry.retryAfterMs },
      schedule,
      (this.options.random ?? Math.random)(),
    );
    return now + delay;
  }
}
