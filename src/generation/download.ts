import got, { RequestError } from 'got';
import pRetry, { AbortError } from 'p-retry';
import { UserFacingError } from '../errors.js';
import type { Logger } from '../log.js';
import { looksLikeMp3 } from './mp3.js';

export type DownloadResult =
  | { kind: 'file'; data: Buffer }
  /** Larger than the cap; nothing past the cap was read. */
  | { kind: 'too-large'; sizeBytes: number | undefined };

export type DownloadFailure = 'not-allowed' | 'not-found' | 'http' | 'timeout' | 'network' | 'not-audio';

export class DownloadError extends UserFacingError {
  constructor(
    readonly reason: DownloadFailure,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(downloadMessages[reason], {
      cause: options?.cause,
      logMessage: `download failed (${reason}): ${detail}`,
    });
    this.name = 'DownloadError';
  }

  /** Worth retrying: the file may come through on another try. */
  get transient(): boolean {
    return this.reason === 'http' || this.reason === 'timeout' || this.reason === 'network';
  }
}

const downloadMessages: Record<DownloadFailure, string> = {
  'not-allowed': 'The track was made, but the music service gave an address the bot will not download from.',
  'not-found':
    'The track was made, but its file has already gone from the music service. Please generate it again.',
  http: 'The track was made, but its file could not be downloaded. Please try again later.',
  timeout: 'The track was made, but downloading it took too long. Please try again later.',
  network: 'The track was made, but the file server could not be reached. Please try again later.',
  'not-audio': 'The track was made, but the file the music service returned is not an MP3.',
};

export interface DownloaderOptions {
  logger: Logger;
  /** Whole download, headers to last byte. */
  timeoutMs: number;
  /** Hosts (host:port) allowed over plain http; every other address must be https. */
  plainHttpHosts: readonly string[];
  retries: number;
  minRetryDelayMs?: number;
}

export type Downloader = (url: string, maxBytes: number) => Promise<DownloadResult>;

/**
 * Fetches a generated track without ever holding more than `maxBytes` of it, and checks that what
 * arrived is an MP3 before anyone uploads it.
 */
export function createDownloader(options: DownloaderOptions): Downloader {
  const allowed = (address: URL) =>
    address.protocol === 'https:' ||
    (address.protocol === 'http:' && options.plainHttpHosts.includes(address.host));

  const attempt = async (url: URL, maxBytes: number): Promise<DownloadResult> => {
    const stream = got.stream(url, {
      timeout: { request: options.timeoutMs },
      retry: { limit: 0 },
      throwHttpErrors: false,
      maxRedirects: 3,
      hooks: {
        beforeRedirect: [
          (next) => {
            if (!allowed(next.url as URL))
              throw new DownloadError('not-allowed', `redirect to ${next.url?.toString() ?? '?'}`);
          },
        ],
      },
    });
    try {
      const response = await new Promise<{ statusCode: number; headers: Record<string, unknown> }>(
        (resolve, reject) => {
          stream.once('response', resolve);
          stream.once('error', reject);
        },
      );
      if (response.statusCode === 404 || response.statusCode === 410) {
        throw new DownloadError('not-found', `HTTP ${response.statusCode}`);
      }
      if (response.statusCode < 200 || response.statusCode >= 300) {
        throw new DownloadError('http', `HTTP ${response.statusCode}`);
      }
      const declared = Number(response.headers['content-length']);
      const sizeBytes = Number.isFinite(declared) && declared >= 0 ? declared : undefined;
      if (sizeBytes !== undefined && sizeBytes > maxBytes) return { kind: 'too-large', sizeBytes };

      const chunks: Buffer[] = [];
      let received = 0;
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > maxBytes) return { kind: 'too-large', sizeBytes };
        chunks.push(chunk);
      }
      const data = Buffer.concat(chunks, received);
      if (!looksLikeMp3(data)) throw new DownloadError('not-audio', `${received} bytes that are not MP3`);
      return { kind: 'file', data };
    } catch (error) {
      throw toDownloadError(error);
    } finally {
      stream.destroy();
    }
  };

  return async (address, maxBytes) => {
    let url: URL;
    try {
      url = new URL(address);
    } catch (error) {
      throw new DownloadError('not-allowed', 'not a URL', { cause: error });
    }
    if (!allowed(url)) throw new DownloadError('not-allowed', `${url.protocol}//${url.host}`);
    return pRetry(
      () =>
        attempt(url, maxBytes).catch((error: unknown) => {
          if (error instanceof DownloadError && !error.transient) throw new AbortError(error);
          throw error;
        }),
      {
        retries: options.retries,
        minTimeout: options.minRetryDelayMs ?? 500,
        randomize: true,
        onFailedAttempt: ({ error, attemptNumber }) => {
          options.logger.warn({ attempt: attemptNumber, reason: error.message }, 'download attempt failed');
        },
      },
    );
  };
}

function toDownloadError(error: unknown): DownloadError {
  if (error instanceof DownloadError) return error;
  if (error instanceof RequestError) {
    if (error.cause instanceof DownloadError) return error.cause;
    if (error.code === 'ETIMEDOUT') return new DownloadError('timeout', error.message, { cause: error });
    return new DownloadError('network', `${error.code}: ${error.message}`, { cause: error });
  }
  return new DownloadError('network', error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}
