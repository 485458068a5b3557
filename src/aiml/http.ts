import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import got, { RequestError, type Got } from 'got';
import type { ZodType } from 'zod';
import { ProviderError, type ProviderErrorKind, type ProviderOperation } from './errors.js';
import { errorBodySchema } from './schemas.js';

/** One HTTP client per provider client: bearer key, bounded kept-alive sockets, no retries of its own. */
export function createProviderHttp(options: {
  apiKey: string;
  requestTimeoutMs: number;
  maxSockets: number;
}): Got {
  // Kept-alive and bounded: a burst of calls reuses a few connections instead of opening hundreds,
  // which costs the provider and starves the bot's own event loop.
  const sockets = { keepAlive: true, maxSockets: options.maxSockets };
  return got.extend({
    agent: { http: new HttpAgent(sockets), https: new HttpsAgent(sockets) },
    headers: { authorization: `Bearer ${options.apiKey}`, 'user-agent': 'Tracksmith (discord bot)' },
    timeout: { request: options.requestTimeoutMs },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
  });
}

interface RawResponse {
  statusCode: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * One provider call: a 2xx body checked against its schema, anything else a classified
 * `ProviderError` (network failures included), so the caller only decides whether to try again.
 */
export async function callProvider<T>(
  operation: ProviderOperation,
  send: () => Promise<RawResponse>,
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
