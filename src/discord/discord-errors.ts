import { DiscordAPIError, RESTJSONErrorCodes } from 'discord.js';

/** What Discord's errors mean for a message the bot wants to edit, and how to log them. */

export function isExpiredToken(error: unknown): boolean {
  return (
    error instanceof DiscordAPIError &&
    (error.code === RESTJSONErrorCodes.InvalidWebhookToken ||
      error.code === RESTJSONErrorCodes.UnknownWebhook ||
      error.status === 401)
  );
}

export function isUnknownMessage(error: unknown): boolean {
  return error instanceof DiscordAPIError && error.code === RESTJSONErrorCodes.UnknownMessage;
}

/** The bot cannot see the channel or message (code 50001), as opposed to any 403. */
export function isMissingAccess(error: unknown): boolean {
  return error instanceof DiscordAPIError && error.code === RESTJSONErrorCodes.MissingAccess;
}

export function isForbidden(error: unknown): boolean {
  return error instanceof DiscordAPIError && error.status === 403;
}

/** Error codes of a request that Discord never answered: the connection broke, was refused or timed out. */
const networkFaultCodes = new Set([
  'EPIPE',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Whether the request failed on the way (no answer from Discord), as opposed to Discord refusing it. */
export function isNetworkFault(error: unknown): boolean {
  // undici may wrap the socket's error as the cause of its own.
  for (let cause = error, depth = 0; cause instanceof Error && depth < 3; cause = cause.cause, depth++) {
    if (cause instanceof DiscordAPIError) return false;
    // discord.js aborts a request that outlives its timeout.
    if (cause.name === 'AbortError') return true;
    const { code } = cause as { code?: unknown };
    if (typeof code === 'string' && networkFaultCodes.has(code)) return true;
  }
  return false;
}

/** An error in one line, without the request's URL: a webhook URL holds the interaction token. */
export function describe(error: unknown): string {
  return error instanceof DiscordAPIError
    ? `${error.status} ${String(error.code)} ${error.message}`
    : String(error);
}
