import type { Logger } from '../log.js';
import { callProvider, createProviderHttp } from './http.js';
import { defaultRetry, retryTransient, type RetryOptions } from './retry.js';
import { generationSchema, MODEL, type GenerationBody } from './schemas.js';
import type { GenerationRequest, PollResult, SubmittedGeneration } from './types.js';

export type { RetryOptions };
export { parseRetryAfter } from './http.js';

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

const knownPending = new Set(['queued', 'generating']);

export function createAimlClient(options: AimlClientOptions): AimlClient {
  const retry = { ...defaultRetry, ...options.retry };
  const endpoint = `${options.baseUrl}/v2/generate/audio`;
  const http = createProviderHttp({
    apiKey: options.apiKey,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    maxSockets: options.maxSockets ?? 32,
  });

  return {
    async create(request) {
      const json = { model: MODEL, prompt: request.prompt, music_length_ms: request.lengthSeconds * 1000 };
      const body = await retryTransient(
        () => callProvider('create', () => http.post(endpoint, { json }), generationSchema),
        { retry, logger: options.logger, what: 'AIML create', onRetry: options.onRetry },
      );
      return { generationId: body.id, status: body.status };
    },

    async poll(generationId) {
      const url = `${endpoint}?${new URLSearchParams({ generation_id: generationId }).toString()}`;
      const body = await callProvider('poll', () => http.get(url), generationSchema);
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
