import { UserFacingError } from '../errors.js';

export type ProviderErrorKind =
  | 'unauthorized' // 401: the bot's key is wrong or revoked
  | 'out-of-credits' // 403: the account cannot pay for more generations
  | 'refused' // other 4xx: the provider rejected this request (its message says why)
  | 'rate-limited' // 429
  | 'unavailable' // 5xx, network failure or timeout
  | 'bad-response'; // 2xx whose body is not what the API documents

const userText: Record<Exclude<ProviderErrorKind, 'refused'>, string> = {
  unauthorized:
    "The music service rejected this bot's API key, so no track can be made. Please tell the bot's owner.",
  'out-of-credits':
    "The bot's music service account is out of credits. Please tell the bot's owner; try again once it is topped up.",
  'rate-limited': 'The music service is rate limiting the bot right now. Please try again in a minute.',
  unavailable: 'The music service is not responding right now. Please try again in a few minutes.',
  'bad-response': 'The music service sent a reply the bot could not understand. Please try again later.',
};

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
      operation: 'create' | 'poll';
    },
  ) {
    super(ProviderError.userMessageFor(kind, details.providerMessage), {
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

  static userMessageFor(kind: ProviderErrorKind, providerMessage: string | undefined): string {
    if (kind !== 'refused') return userText[kind];
    const reason = providerMessage?.trim();
    return reason
      ? `The music service refused this prompt: ${truncate(reason, 500)}`
      : 'The music service refused this prompt. Try rewording it.';
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
