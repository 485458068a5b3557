import { setTimeout as sleep } from 'node:timers/promises';
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from '../log.js';
import { ProviderError } from './errors.js';

export interface RetryOptions {
  /** Attempts after the first one. */
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
  /** A `Retry-After` longer than this is not waited for: the call fails as rate limited. */
  maxRetryAfterMs: number;
}

export const defaultRetry: RetryOptions = {
  retries: 4,
  minTimeoutMs: 500,
  maxTimeoutMs: 8_000,
  maxRetryAfterMs: 60_000,
};

/**
 * Runs a provider call again while it fails transiently (rate limited, unavailable), honouring
 * `Retry-After` up to `maxRetryAfterMs`; permanent failures end it at once. Both the music client
 * and the lyrics client go through here, so they retry alike.
 */
export function retryTransient<T>(
  attempt: () => Promise<T>,
  options: { retry: RetryOptions; logger: Logger; what: string; onRetry?: (() => void) | undefined },
): Promise<T> {
  const { retry, logger } = options;
  return pRetry(
    () =>
      attempt().catch((error: unknown) => {
        // Permanent failures skip the remaining attempts.
        if (error instanceof ProviderError && !error.retryable) throw new AbortError(error);
        throw error;
      }),
    {
      retries: retry.retries,
      minTimeout: retry.minTimeoutMs,
      maxTimeout: retry.maxTimeoutMs,
      randomize: true,
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft, retryDelay }) => {
        const details = error instanceof ProviderError ? error.details : undefined;
        logger.warn(
          { attempt: attemptNumber, retriesLeft, status: details?.status, reason: error.message },
          `${options.what} attempt failed`,
        );
        if (retriesLeft > 0) options.onRetry?.();
        const wait = details?.retryAfterMs;
        if (wait !== undefined && retriesLeft > 0) {
          // A Retry-After beyond our patience means the slot will not come soon: give up now.
          if (wait > retry.maxRetryAfterMs) throw error;
          // p-retry has no per-failure delay option; its documented way to wait longer is this
          // hook's promise. Its own backoff (`retryDelay`) follows the hook, so the hook waits only
          // what Retry-After asks beyond it: the pause is the longer of the two, not their sum.
          if (wait > retryDelay) await sleep(wait - retryDelay);
        }
      },
    },
  );
}
