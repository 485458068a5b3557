import type { AppOptions } from '../../src/app.js';

/**
 * Timings that keep end-to-end runs quick without changing any logic. A module of its own so that a
 * bot started as a child process (test/crash/bot-process.ts) takes them without the fakes.
 */
export const fastOptions: AppOptions = {
  schedule: {
    firstPollMs: 50,
    minIntervalMs: 25,
    maxIntervalMs: 200,
    maxBackoffMs: 500,
    targetLagMs: 50,
    minGapMs: 10,
  },
  providerRetry: { retries: 3, minTimeoutMs: 20, maxTimeoutMs: 100 },
  download: { timeoutMs: 2_000, retries: 1, minRetryDelayMs: 20 },
  discordRest: { retries: 1, timeout: 5_000 },
  discordNetworkRetry: { retries: 2, minTimeoutMs: 50 },
};
