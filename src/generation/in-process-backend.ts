import { FairGate } from './gate.js';
import { InProcessQueue, type InProcessQueueOptions } from './in-process-queue.js';
import type { QueueBackend } from './ports.js';
import { Tracker, type TrackerOptions } from './tracker.js';

export interface InProcessBackendOptions extends Omit<InProcessQueueOptions, 'tracker' | 'gate'> {
  tracker: TrackerOptions;
  /** `MAX_CONCURRENT_GENERATIONS`. */
  globalLimit: number;
  /** The server's `concurrent` setting, asked synchronously at each admission. */
  guildLimit: (guildId: string) => number;
}

/**
 * The default backend: every job lives in this process (`in-process-queue.ts`), admitted by the
 * fair gate and followed by one tracker. It runs on nothing outside the process, so there is
 * nothing to connect, and nothing to report but the queue itself.
 */
export function createInProcessBackend(options: InProcessBackendOptions): QueueBackend {
  const { tracker, globalLimit, guildLimit, ...rest } = options;
  const queue = new InProcessQueue({
    ...rest,
    tracker: new Tracker(tracker),
    gate: new FairGate({ globalLimit, guildLimit }),
  });
  return {
    queue,
    connect: () => Promise.resolve(),
    start: () => Promise.resolve(),
    stop: () => queue.stop(),
    health: () => Promise.resolve({}),
  };
}
