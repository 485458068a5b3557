import { UserFacingError } from '../errors.js';

export type ProviderErrorKind =
  | 'unauthorized' // 401: the bot's key is wrong or revoked
  | 'out-of-credits' // 403: the account cannot pay for more generations
  | 'refused' // other 4xx: the provider rejected this request (its message says why)
  | 'rate-limited' // 429
  | 'unavailable' // 5xx, network failure or timeout
  | 'bad-response'; // 2xx whose body is not what the API documents

/** The provider call that failed: music generation, or a lyrics draft from the chat model. */
export type ProviderOperation = 'create' | 'poll' | 'chat';

const userText = (
  service: string,
  product: string,
): Record<Exclude<ProviderErrorKind, 'refused'>, string> => ({
  unauthorized: `The ${service} service rejected this bot's API key, so no ${product} can be made. Please tell the bot's owner.`,
  'out-of-credits': `The bot's ${service} service account is out of credits. Please tell the bot's owner; try again once it is topped up.`,
  'rate-limited': `The ${service} service is rate limiting the bot right now. Please try again in a minute.`,
  unavailable: `The ${service} service is not responding right now. Please try again in a few minutes.`,
  'bad-response': `The ${service} service sent a reply the bot could not understand. Please try again later.`,
});

/** A failed provider call, classified so that the caller decides between retrying and giving up. */
export class ProviderError extends UserFacingError {
  constructor(
    readonly kind: ProviderErrorKind,
    readonly details: {
      status?: number;
      /** The provider's own words; shown to users only for `refused`. */
      providerMessage?: string;
      retryAfterMs?: number;
      cause?: unknown;
      operation: ProviderOperation;
    },
  ) {
    super(ProviderError.userMessageFor(kind, details.providerMessage, details.operation), {
      cause: details.cause,
      logMessage: `AIML ${details.operation} failed: ${kind}${details.status ? ` (HTTP ${details.status})` : ''}${
        details.providerMessage ? `: ${details.providerMessage}` : ''
      }`,
    });
    this.name = 'ProviderError';
  }

  get retryable(): boolean {
    return this.kind === 'rate-limited' || this.kind === 'unavailable';
  }

  static userMessageFor(
    kind: ProviderErrorKind,
    providerMessage: string | undefined,
    operation: ProviderOperation = 'create',
  ): string {
    const lyrics = operation === 'chat';
    const service = lyrics ? 'lyrics' : 'music';
    if (kind !== 'refused') return userText(service, lyrics ? 'lyrics draft' : 'track')[kind];
    const what = lyrics ? 'idea' : 'prompt';
    const reason = providerMessage?.trim();
    return reason
      ? `The ${service} service refused this ${what}: ${truncate(reason, 500)}`
      : `The ${service} service refused this ${what}. Try rewording it.`;
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
