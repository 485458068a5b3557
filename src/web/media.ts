import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodePeaks, drawWaveform } from '../audio/waveform.js';
import type { TrackMedia } from '../domain/track.js';
import { trackParams, type WebContext } from './context.js';

/** A refreshed link is reused until a minute before Discord says it expires. */
const FRESH_MARGIN_MS = 60_000;
const RANGE = /^bytes=\d*-\d*$/;

/**
 * A track's audio and waveform from the bot's own origin. The audio stays where Discord keeps it:
 * the bot asks Discord for a fresh link to the stored attachment (links expire after about a day)
 * and streams the bytes through, passing the browser's Range on, so no host keeps files and any
 * gateway or worker host can serve any track.
 */
export function mediaRoutes(context: WebContext) {
  /** The media of a numbered track of this server, if the signed-in person is a member. */
  const find = async (
    request: FastifyRequest<{ Params: { guildId: string; n: number } }>,
    reply: FastifyReply,
  ): Promise<TrackMedia | undefined> => {
    const media = await lookUp(request);
    // Signed out, not a member, or no such track: the same 404, so nothing tells which.
    if (media === undefined) void reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    return media;
  };

  const lookUp = async (request: FastifyRequest<{ Params: { guildId: string; n: number } }>) => {
    if (request.user === null) return undefined;
    const access = await context.access.check(request.params.guildId, request.user.userId);
    if (access.kind === 'none') return undefined;
    const listing = await context.tracks.byNumber(request.params.guildId, request.params.n);
    if (listing === undefined || listing.track.status !== 'completed' || listing.track.deletedAt !== null)
      return undefined;
    const media = await context.web.media(listing.track.id);
    return media?.guildId === request.params.guildId ? media : undefined;
  };

  const freshUrl = async (media: TrackMedia, force: boolean): Promise<string | undefined> => {
    if (media.audioUrl === null) return undefined;
    if (!force && media.freshUrl !== null && (media.freshUntil ?? 0) - FRESH_MARGIN_MS > context.now()) {
      return media.freshUrl;
    }
    const answer = (await context.rest.post('/attachments/refresh-urls', {
      body: { attachment_urls: [media.audioUrl] },
    })) as { refreshed_urls?: { original?: string; refreshed?: string }[] };
    const refreshed = answer.refreshed_urls?.find((r) => r.original === media.audioUrl)?.refreshed;
    // Only ever fetch from where Discord first put the file: a link elsewhere is not followed.
    if (refreshed === undefined || new URL(refreshed).origin !== new URL(media.audioUrl).origin)
      return undefined;
    const until = expiryOf(refreshed) ?? context.now() + 3_600_000;
    await context.web.rememberFreshUrl(media.requestId, refreshed, until);
    return refreshed;
  };

  return (app: FastifyInstance, _options: unknown, done: () => void) => {
    app.get<{ Params: { guildId: string; n: number } }>(
      '/servers/:guildId/tracks/:n/audio.mp3',
      { schema: { params: trackParams } },
      async (request, reply) => {
        const media = await find(request, reply);
        if (media === undefined) return reply;
        const range = request.headers.range;
        const headers: Record<string, string> = {};
        if (typeof range === 'string' && RANGE.test(range)) headers.range = range;
        let upstream: Response | undefined;
        for (const force of [false, true]) {
          const url = await freshUrl(media, force);
          if (url === undefined) break;
          upstream = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
          // A link Discord no longer honours: ask for a new one once.
          if (upstream.status !== 403 && upstream.status !== 404) break;
          await upstream.body?.cancel();
          upstream = undefined;
        }
        if (upstream === undefined || upstream.body === null || ![200, 206, 416].includes(upstream.status)) {
          await upstream?.body?.cancel();
          return reply
            .code(502)
            .type('text/plain; charset=utf-8')
            .send('Discord did not hand the file over; try again.');
        }
        if (upstream.status === 416) {
          await upstream.body.cancel();
          return reply
            .code(416)
            .header(
              'content-range',
              upstream.headers.get('content-range') ?? `bytes */${media.audioBytes ?? 0}`,
            )
            .send();
        }
        reply.code(upstream.status).type('audio/mpeg').header('accept-ranges', 'bytes');
        reply.header('cache-control', 'private, max-age=3600');
        for (const name of ['content-length', 'content-range', 'etag', 'last-modified']) {
          const value = upstream.headers.get(name);
          if (value !== null) reply.header(name, value);
        }
        return reply.send(Readable.fromWeb(upstream.body as WebReadableStream<Uint8Array>));
      },
    );

    app.get<{ Params: { guildId: string; n: number } }>(
      '/servers/:guildId/tracks/:n/waveform.png',
      { schema: { params: trackParams } },
      async (request, reply) => {
        const media = await find(request, reply);
        if (media === undefined) return reply;
        if (media.peaks === null)
          return reply.code(404).type('text/plain; charset=utf-8').send('No waveform');
        return reply
          .type('image/png')
          .header('cache-control', 'private, max-age=86400')
          .send(drawWaveform(decodePeaks(media.peaks)));
      },
    );
    done();
  };
}

/** Discord's signed links carry their expiry as `ex`, seconds since the epoch in hex. */
function expiryOf(url: string): number | undefined {
  const ex = new URL(url).searchParams.get('ex');
  if (ex === null || !/^[0-9a-f]{1,12}$/i.test(ex)) return undefined;
  return Number.parseInt(ex, 16) * 1000;
}
