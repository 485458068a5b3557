import type { Logger } from '../log.js';
import { ProviderError } from './errors.js';
import { callProvider, createProviderHttp } from './http.js';
import { defaultRetry, retryTransient, type RetryOptions } from './retry.js';
import { chatCompletionSchema } from './schemas.js';

export interface ChatMessage {
  role: 'system' | 'user';
  content: string;
}

export interface ChatCompletion {
  content: string;
  /** Whether the model stopped because it ran out of `maxTokens` (the text is then cut short). */
  truncated: boolean;
  totalTokens: number | undefined;
  /** When the provider states what the call cost; otherwise the caller estimates it. */
  creditsUsed: number | undefined;
}

/** The text model on the same AIML account, as the songwriting core sees it. */
export interface ChatClient {
  /** One completion, retrying transient failures like generation does; throws `ProviderError`. */
  complete(request: { messages: ChatMessage[]; maxTokens: number }): Promise<ChatCompletion>;
}

export interface ChatClientOptions {
  baseUrl: string;
  apiKey: string;
  model: string;
  logger: Logger;
  requestTimeoutMs?: number;
  retry?: Partial<RetryOptions>;
  onRetry?: () => void;
}

/** `POST {AIML_API_URL}/v1/chat/completions`, OpenAI-compatible. */
export function createChatClient(options: ChatClientOptions): ChatClient {
  const retry = { ...defaultRetry, ...options.retry };
  const endpoint = `${options.baseUrl}/v1/chat/completions`;
  const http = createProviderHttp({
    apiKey: options.apiKey,
    requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
    maxSockets: 8,
  });
  return {
    async complete({ messages, maxTokens }) {
      const json = { model: options.model, messages, max_tokens: maxTokens, temperature: 0.9 };
      const body = await retryTransient(
        () => callProvider('chat', () => http.post(endpoint, { json }), chatCompletionSchema),
        { retry, logger: options.logger, what: 'AIML chat', onRetry: options.onRetry },
      );
      const choice = body.choices[0];
      const content = choice?.message.content?.trim() ?? '';
      if (content === '') {
        throw new ProviderError('bad-response', { operation: 'chat', providerMessage: 'empty completion' });
      }
      return {
        content,
        truncated: choice?.finish_reason === 'length',
        totalTokens: body.usage?.total_tokens,
        creditsUsed: body.meta?.usage?.credits_used ?? undefined,
      };
    },
  };
}
