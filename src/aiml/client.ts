import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import got, { RequestError } from 'got';
import pRetry, { AbortError } from 'p-retry';
import type { ZodType } from 'zod';
import type { Logger } from '../log.js';
import { ProviderError, type ProviderErrorKind } from './errors.js';
import { errorBodySchema, generationSchema, MODEL, type GenerationBody } from './schemas.js';
import type { GenerationRequest, PollResult, SubmittedGeneration } from './types.js';

export interface RetryOptions {
  /** Attempts after the first one. */
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
  /** A `Retry-After` longer than this is not waited for: the call fails as rate limited. */
  maxRetryAfterMs: number;
}

export interface AimlClientOptions {
  baseUrl: string;
  apiKey: string;
  logger: Logger;
  requestTimeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /** Called before each retry of a submission (for metrics). */
  onRetry?: () => void;
  /** Connections to the provider at most; more requests wait for one (default 32). */
  maxSockets?: number;
}

export interface AimlClient {
  /** Submits a generation, retrying transient failures; throws `ProviderError` when it gives up. */
  create(request: GenerationRequest): Promise<SubmittedGeneration>;
  /** One status check, no retry: the tracker's schedule decides when to ask again. */
  poll(generationId: string): Promise<PollResult>;
}

const defaultRetry: RetryOptions = {
  retries: 4,
  minTimeoutMs: 500,
  maxTimeoutMs: 8_000,
  maxRetryAfterMs: 60_000,
};
const knownPending = new Set(['queued', 'generating']);

export function createAimlClient(options: AimlClientOptions): AimlClient {
  const retry = { ...defaultRetry, ...options.retry };
  const endpoint = `${options.baseUrl}/v2/generate/audio`;
  // Kept-alive and bounded: a burst of submissions reuses a few connections instead of opening
  // hundreds, which costs the provider and starves the bot's own event loop.
  const sockets = { keepAlive: true, maxSockets: options.maxSockets ?? 32 };
  const http = got.extend({
    agent: { http: new HttpAgent(sockets), https: new HttpsAgent(sockets) },
    headers: { authorization: `Bearer ${options.apiKey}`, 'user-agent': 'Tracksmith (discord bot)' },
    timeout: { request: options.requestTimeoutMs ?? 30_000 },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
  });

  async function call<T>(
    operation: 'create' | 'poll',
    send: () => Promise<{
      statusCode: number;
      body: string;
      headers: Record<string, string | string[] | undefined>;
    }>,
    schema: ZodType<T>,
  ): Promise<T> {
    let response;
    try {
      response = await send();
    } catch (error) {
      const reason = error instanceof RequestError ? `${error.code}: ${error.message}` : String(error);
      throw new ProviderError('unavailable', { operation, providerMessage: reason, cause: error });
    }
    const { statusCode, body, headers } = response;
    if (statusCode >= 200 && statusCode < 300) {
      const parsed = schema.safeParse(parseJson(body));
      if (!parsed.success) {
        throw new ProviderError('bad-response', {
          operation,
          status: statusCode,
          providerMessage: `unexpected body: ${body.slice(0, 200)}`,
        });
      }
      return parsed.data;
    }
    throw new ProviderError(classify(statusCode), {
      operation,
      status: statusCode,
      providerMessage: errorText(body),
      retryAfterMs: parseRetryAfter(headers['retry-after']),
    });
  }

  return {
    async create(request) {
      const json = { model: MODEL, prompt: request.prompt, music_length_ms: request.lengthSeconds * 1000 };
      const body = await pRetry(
        () =>
          call('create', () => http.post(endpoint, { json }), generationSchema).catch((error: unknown) => {
            // Permanent failures skip the remaining attempts.
            if (error instanceof ProviderError && !error.retryable) throw new AbortError(error);
            throw error;
          }),
        {
          retries: retry.retries,
          minTimeout: retry.minTimeoutMs,
          maxTimeout: retry.maxTimeoutMs,
          randomize: true,
          onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
            const details = error instanceof ProviderError ? error.details : undefined;
            options.logger.warn(
              { attempt: attemptNumber, retriesLeft, status: details?.status, reason: error.message },
              'AIML create attempt failed',
            );
            if (retriesLeft > 0) options.onRetry?.();
            const wait = details?.retryAfterMs;
            if (wait !== undefined && retriesLeft > 0) {
              // A Retry-After beyond our patience means the slot will not come soon: give up now.
              if (wait > retry.maxRetryAfterMs) throw error;
              await new Promise((resolve) => setTimeout(resolve, wait));
            }
          },
        },
      );
      return { generationId: body.id, status: body.status };
    },

    async poll(generationId) {
      const url = `${endpoint}?${new URLSearchParams({ generation_id: generationId }).toString()}`;
      const body = await call('poll', () => http.get(url), generationSchema);
      return toPollResult(body);
    },
  };
}

function toPollResult(body: GenerationBody): PollResult {
  const creditsUsed = body.meta?.usage?.credits_used ?? undefined;
  switch (body.status) {
    case 'completed': {
      const url = body.audio_file?.url;
      if (!url) {
        // Completed without a file is unusable; report it like the provider's own error.
        return {
          kind: 'failed',
          message: 'The music service finished without returning a file.',
          creditsUsed,
        };
      }
      return { kind: 'completed', audioUrl: url, creditsUsed };
    }
    case 'error':
    case 'failed':
      return {
        kind: 'failed',
        message: body.error?.message?.trim() || 'The music service could not generate this track.',
        creditsUsed,
      };
    default:
      return { kind: 'pending', status: body.status, known: knownPending.has(body.status) };
  }
}

function classify(status: number): ProviderErrorKind {
  if (status === 401) return 'unauthorized';
  if (status === 402 || status === 403) return 'out-of-credits';
  if (status === 429) return 'rate-limited';
  if (status >= 500 || status === 408) return 'unavailable';
  return 'refused';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The provider's explanation from a JSON error body, or the text itself when it is not JSON. */
function errorText(body: string): string | undefined {
  const parsed = errorBodySchema.safeParse(parseJson(body));
  if (parsed.success) {
    const { message, error } = parsed.data;
    const text = Array.isArray(message)
      ? message.join('; ')
      : (message ?? (typeof error === 'string' ? error : error?.message));
    if (text) return text;
  }
  const plain = body.trim();
  return plain ? plain.slice(0, 500) : undefined;
}

/** `Retry-After` is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
