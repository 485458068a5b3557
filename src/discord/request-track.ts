import {
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type ModalSubmitInteraction,
} from 'discord.js';
import { lineageFor } from '../generation/lineage.js';
import { newJob, type RequestOrigin } from '../generation/ports.js';
import type { SongRecord } from '../limits/reserve.js';
import { validateMusicRequest } from '../generation/request.js';
import { songDetailsOf } from '../domain/song.js';
import { parentOf, type TrackKind, type TrackRecord } from '../domain/track.js';
import type { CommandContext } from './command.js';
import { DEFAULT_UPLOAD_LIMIT_BYTES } from './limits.js';
import { renderNotice } from './render.js';
import { replyPrivately } from './reply.js';
import { storageUnavailable } from './router.js';

/** Every interaction that can ask for a track: /music, the /compose form, Regenerate, the Remix form. */
export type TrackInteraction = ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction;

export interface TrackAsk {
  /** As received: validated here, whatever the command definition promised. */
  prompt: unknown;
  length: unknown;
  kind: TrackKind;
  /** The track this one regenerates or remixes. */
  parent?: TrackRecord;
  /** Style, vocals, lyrics, personal defaults and message credit, recorded with the track. */
  song?: SongRecord;
}

/**
 * The one path from an interaction to a generation: validate, reserve a slot under the server's
 * limits (one local transaction, no network), defer, hand off. The deferred reply is where the
 * track arrives, so for a button it is a new message and the original keeps its track.
 */
export async function requestTrack(
  interaction: TrackInteraction,
  context: CommandContext,
  ask: TrackAsk,
): Promise<void> {
  if (!interaction.inGuild() || interaction.channelId === null) {
    await replyPrivately(interaction, 'Tracks can only be made in a server channel.');
    return;
  }
  const checked = validateMusicRequest({ prompt: ask.prompt, length: ask.length });
  if (!checked.ok) {
    await replyPrivately(interaction, checked.problems.join('\n'));
    return;
  }

  // Nothing is reserved, and nothing reaches the provider, while the ledger cannot record it.
  if (!context.storeAvailable()) {
    await replyPrivately(interaction, storageUnavailable);
    return;
  }

  const origin: RequestOrigin = {
    guildId: interaction.guildId,
    channelId: interaction.channelId,
    userId: interaction.user.id,
    reply: { applicationId: interaction.applicationId, interactionToken: interaction.token },
    uploadLimitBytes: uploadLimit(interaction.attachmentSizeLimit),
  };
  const id = context.requestId;
  const reservation = await context.reserve({
    id,
    guildId: origin.guildId,
    channelId: origin.channelId,
    userId: origin.userId,
    memberRoleIds: memberRoles(interaction),
    prompt: checked.value.prompt,
    lengthSeconds: checked.value.lengthSeconds,
    kind: ask.kind,
    parentId: ask.parent?.id,
    song: ask.song,
    reply: { ...origin.reply, uploadLimitBytes: origin.uploadLimitBytes },
  });
  if (!reservation.ok) {
    await replyPrivately(interaction, reservation.refusal.message);
    return;
  }

  try {
    await interaction.deferReply();
  } catch (error) {
    // Unacknowledged, the request must not be generated later as if the member had seen it start.
    await context.jobs.unacknowledged(id);
    throw error;
  }
  const job = newJob(
    id,
    { prompt: checked.value.prompt, lengthSeconds: reservation.lengthSeconds },
    origin,
    context.now(),
    lineageFor(ask.kind, ask.parent && parentOf(ask.parent)),
    ask.song && songDetailsOf(ask.song),
  );
  try {
    await context.jobs.enqueue(job);
  } catch (error) {
    // The shared queue is unreachable, and the core has ended the request: say so now rather than
    // leave a reply that never moves. The error ends here: thrown on, the router would replace
    // this notice with its generic one.
    context.logger.error({ err: error }, 'the request could not be queued');
    await interaction
      .editReply(renderNotice('The bot could not queue this track just now. Please try again in a minute.'))
      .catch((replyError: unknown) =>
        context.logger.warn({ err: replyError }, 'could not tell the member the request was not queued'),
      );
  }
}

/** Role IDs from the member as Discord sent it, cached or not. */
export function memberRoles(interaction: TrackInteraction): string[] {
  const roles = interaction.member?.roles;
  if (roles === undefined) return [];
  const ids = Array.isArray(roles) ? roles : [...roles.cache.keys()];
  return ids.filter((id): id is string => typeof id === 'string');
}

/** Trusts the interaction's stated limit only within sane bounds (it is client-supplied data too). */
function uploadLimit(stated: unknown): number {
  return typeof stated === 'number' &&
    Number.isInteger(stated) &&
    stated >= 1024 * 1024 &&
    stated <= 1024 ** 3
    ? stated
    : DEFAULT_UPLOAD_LIMIT_BYTES;
}
