import { Routes, type APIMessage, type REST } from 'discord.js';
import pRetry from 'p-retry';
import { Lull } from '../generation/lull.js';
import { systemClock, type Clock, type Delivery, type Job, type Reporter } from '../generation/ports.js';
import type { Logger } from '../log.js';
import { describe, isExpiredToken, isForbidden, isNetworkFault, isUnknownMessage } from './discord-errors.js';
import {
  carriesTrack,
  renderCancelled,
  renderDelivered,
  renderFailed,
  renderProgress,
  renderWaveform,
  type MessagePayload,
} from './render.js';
import { createTrackPictures } from './track-pictures.js';

export interface DiscordReporterOptions {
  /** Bot-authenticated routes: channel messages. */
  rest: REST;
  /**
   * Interaction-token routes (the deferred reply). Discord does not count them against the bot's
   * global limit of 50 requests a second, so they get a client without that limit.
   */
  interactionRest: REST;
  logger: Logger;
  /** Keeps where the delivered track's file is on Discord, for the web gallery, once it is posted. */
  rememberTrackMedia?(job: Job, media: PostedMedia): Promise<void>;
  /** Keeps the waveform's levels (0-255) once the picture is on the track's message. */
  rememberTrackPeaks?(job: Job, peaks: number[]): Promise<void>;
  /** Times the pause between posting tracks and drawing their pictures; the system clock unless given. */
  clock?: Clock;
  /**
   * Resolves when no interaction waits for its acknowledgement: a picture's CPU must not make a
   * member's command miss Discord's 3 s. (Worker processes take no interactions, so leave it out.)
   */
  acknowledged?: () => Promise<void>;
  /** Runs once the track is in the reply (the voice side queues it); a failure is only logged. */
  afterDelivered?(job: Job): Promise<void>;
  /**
   * New tries of a final edit that Discord never answered (the connection broke or timed out),
   * each wait four times the one before. Default: 2 tries, after 1 s and 4 s.
   */
  networkRetry?: NetworkRetryOptions;
}

/** Where a delivered track was posted, as the web side finds it again. */
export interface PostedMedia {
  channelId: string;
  messageId: string;
  /** The attachment as Discord first served it; undefined when the member got a link instead. */
  audio?: { url: string; name: string; bytes: number };
}

export interface NetworkRetryOptions {
  retries: number;
  minTimeoutMs: number;
}

export interface DiscordReporter extends Reporter {
  /** Resolves once the waveforms still being drawn are on their messages (or given up). */
  settle(): Promise<void>;
}

/** The routes a final message can take, from the preferred one down. */
export type DeliveryRoute = 'reply' | 'channel-edit' | 'new-message';

/**
 * The core's Reporter on Discord. Every outcome edits the deferred reply through the interaction
 * webhook. An interaction token lives 15 minutes, so a final message that comes later edits the
 * same reply as the bot's own message through the channel route; when the reply is gone, or cannot
 * be edited, it posts a new message that mentions only the requester.
 */
export function createDiscordReporter(options: DiscordReporterOptions): DiscordReporter {
  const { rest, interactionRest, logger } = options;
  // Tracks being posted; pictures wait until none has been for a moment (or 2 s at most), and
  // until the interactions in hand are acknowledged.
  const posting = new Lull({ clock: options.clock ?? systemClock, settleMs: 50, maxWaitMs: 2_000 });
  const pictures = createTrackPictures({
    logger,
    idle: async () => {
      await options.acknowledged?.();
      await posting.quiet();
    },
  });

  /**
   * The message that carries the reply from now on, when `message` tells the job something new:
   * the core records it for later edits and /tracks (the job is the core's to change).
   */
  const carriedBy = (job: Job, message: APIMessage, replaced: boolean) =>
    replaced || job.origin.reply.messageId === undefined ? { carriedBy: message.id } : {};

  /** The deferred reply, reached with the interaction token (no bot authorisation). */
  const replyRoute = ({ origin: { reply } }: Job) =>
    Routes.webhookMessage(reply.applicationId, reply.interactionToken, '@original');

  /** The same edit through the channel route, with the bot's own authorisation. */
  const editChannelMessage = async (
    channelId: string,
    messageId: string,
    payload: MessagePayload,
  ): Promise<APIMessage> =>
    (await rest.patch(Routes.channelMessage(channelId, messageId), {
      body: payload.body,
      files: payload.files,
    })) as APIMessage;

  const editReply = async (job: Job, payload: MessagePayload): Promise<APIMessage> => {
    const request = { body: payload.body, files: payload.files, auth: false };
    return (await interactionRest.patch(replyRoute(job), request)) as APIMessage;
  };

  /**
   * Runs an edit again when Discord never answered it. Editing a message to the same content twice
   * is harmless, so only edits are sent again; a new message could be posted twice.
   */
  const { retries, minTimeoutMs } = options.networkRetry ?? { retries: 2, minTimeoutMs: 1_000 };
  const editAgainOnNetworkFault = <T>(job: Job, edit: () => Promise<T>): Promise<T> =>
    pRetry(edit, {
      retries,
      minTimeout: minTimeoutMs,
      factor: 4,
      shouldRetry: ({ error }) => isNetworkFault(error),
      onFailedAttempt: ({ error, retriesLeft }) => {
        if (retriesLeft > 0 && isNetworkFault(error)) {
          logger.warn(
            { requestId: job.id, reason: describe(error) },
            'Discord did not answer an edit; sending it again',
          );
        }
      },
    });

  const finalMessage = async (
    job: Job,
    payload: MessagePayload,
  ): Promise<{ route: DeliveryRoute; message: APIMessage }> => {
    try {
      return { route: 'reply', message: await editAgainOnNetworkFault(job, () => editReply(job, payload)) };
    } catch (error) {
      if (!isExpiredToken(error) && !isUnknownMessage(error)) throw error;
      logger.warn(
        { requestId: job.id, reason: describe(error) },
        'reply not editable through the interaction',
      );
    }

    const { channelId } = job.origin;
    const messageId = job.origin.reply.messageId;
    if (messageId !== undefined) {
      try {
        const message = await editAgainOnNetworkFault(job, () =>
          editChannelMessage(channelId, messageId, payload),
        );
        return { route: 'channel-edit', message };
      } catch (error) {
        if (!isUnknownMessage(error) && !isForbidden(error)) throw error;
        logger.warn({ requestId: job.id, reason: describe(error) }, 'reply not editable through the channel');
      }
    }

    const mention = `<@${job.origin.userId}>`;
    const posted = (await rest.post(Routes.channelMessages(channelId), {
      body: {
        ...payload.body,
        content: `${mention} ${payload.body.content ?? ''}`.trim(),
        // The one ping the bot ever sends: the member whose reply could not carry their track.
        allowed_mentions: { users: [job.origin.userId] },
      },
      files: payload.files,
    })) as APIMessage;
    return { route: 'new-message', message: posted };
  };

  const reportOf = (job: Job, { route, message }: { route: DeliveryRoute; message: APIMessage }) => ({
    route,
    ...carriedBy(job, message, route === 'new-message'),
  });

  /**
   * Work that follows a posted track (the web gallery's records, the voice queue): failing costs a
   * player, a picture or a radio slot, never the member's track, which is already in the reply.
   */
  const afterwards = async (job: Job, what: string, work: () => Promise<void> | undefined) => {
    try {
      await work();
    } catch (error) {
      logger.error({ requestId: job.id, err: error }, `could not ${what}`);
    }
  };

  const keepMedia = (job: Job, delivery: Delivery, message: APIMessage) => {
    const file =
      delivery.kind === 'file'
        ? message.attachments.find((a) => a.filename === delivery.fileName)
        : undefined;
    return afterwards(job, 'record where the track is', () =>
      options.rememberTrackMedia?.(job, {
        channelId: message.channel_id,
        messageId: message.id,
        ...(file === undefined ? {} : { audio: { url: file.url, name: file.filename, bytes: file.size } }),
      }),
    );
  };

  /**
   * Edits the waveform onto the message that carries the track, through the route that delivered
   * it: the interaction webhook for the reply (outside the bot's global rate limit), else the channel.
   */
  const addPicture = async (
    job: Job,
    { route, message }: { route: DeliveryRoute; message: APIMessage },
    picture: Buffer,
    peaks: number[],
  ) => {
    const payload = renderWaveform(
      job,
      message.attachments.map((a) => a.id),
      picture,
    );
    await editAgainOnNetworkFault(job, () =>
      route === 'reply'
        ? editReply(job, payload)
        : editChannelMessage(message.channel_id, message.id, payload),
    );
    await afterwards(job, "record the waveform's levels", () => options.rememberTrackPeaks?.(job, peaks));
  };

  return {
    progress: async (job) => carriedBy(job, await editReply(job, renderProgress(job)), false),
    delivered: async (job, delivery: Delivery) => {
      const posted = posting.busy();
      let sent;
      try {
        sent = await finalMessage(job, renderDelivered(job, delivery));
      } finally {
        posted();
      }
      await keepMedia(job, delivery, sent.message);
      await afterwards(job, 'hand the track on', () => options.afterDelivered?.(job));
      if (delivery.kind === 'file') {
        await pictures.add({
          job,
          mp3: delivery.data,
          addPicture: (picture, peaks) => addPicture(job, sent, picture, peaks),
        });
      }
      return reportOf(job, sent);
    },
    failed: async (job, message) => reportOf(job, await finalMessage(job, renderFailed(job, message))),
    cancelled: async (job) => reportOf(job, await finalMessage(job, renderCancelled(job))),
    async holdsTrack(job) {
      const { messageId } = job.origin.reply;
      const read = async (): Promise<APIMessage> => {
        try {
          return (await interactionRest.get(replyRoute(job), { auth: false })) as APIMessage;
        } catch (error) {
          if (messageId === undefined || !isExpiredToken(error)) throw error;
          return (await rest.get(Routes.channelMessage(job.origin.channelId, messageId))) as APIMessage;
        }
      };
      try {
        return carriesTrack(await read(), job.id);
      } catch (error) {
        // Gone or out of reach: delivering again is the way to be sure the member gets the track.
        logger.warn({ requestId: job.id, reason: describe(error) }, 'could not read the reply back');
        return false;
      }
    },
    settle: () => pictures.settle(),
  };
}
