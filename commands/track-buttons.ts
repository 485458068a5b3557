import {
  MessageFlags,
  Routes,
  TextInputStyle,
  userMention,
  type ButtonInteraction,
  type ModalSubmitInteraction,
} from 'discord.js';
import type { CommandContext, ComponentHandler } from '../src/discord/command.js';
import { encodeCustomId, type CustomId } from '../src/discord/custom-id.js';
import { textField, textInput } from '../src/discord/modal.js';
import { isUnknownMessage } from '../src/discord/discord-errors.js';
import { isModerator } from '../src/discord/permissions.js';
import { noPings, renderNotice, trackRef } from '../src/discord/render.js';
import { renderTrackLyrics } from '../src/discord/render-lyrics.js';
import { replyPrivately } from '../src/discord/reply.js';
import { requestTrack, type TrackInteraction } from '../src/discord/request-track.js';
import { lengthFromText } from '../src/generation/compose.js';
import { PROMPT_MAX_CHARS } from '../src/generation/request.js';
import type { SongRecord } from '../src/limits/reserve.js';
import { songDetailsOf } from '../src/domain/song.js';
import type { TrackRecord } from '../src/domain/track.js';

/**
 * Regenerate, Remix, Cancel, Delete and Lyrics on track messages. The `custom_id` names only the request;
 * each click looks it up again and checks the server and the member before doing anything.
 */
async function button(interaction: ButtonInteraction, id: CustomId, context: CommandContext): Promise<void> {
  const track = await findTrack(interaction, id, context);
  if (!track) return;
  switch (id.action) {
    case 'regenerate':
      await requestTrack(interaction, context, {
        prompt: track.prompt,
        length: track.lengthSeconds,
        kind: 'regenerate',
        parent: track,
        // The same prompt, so the same words, style and credit: the new take's card shows them too.
        song: songRecordOf(track),
      });
      return;
    case 'remix':
      await interaction.showModal({
        custom_id: encodeCustomId('track', 'remix', track.id),
        title: track.trackNumber === null ? 'Remix this track' : `Remix track #${track.trackNumber}`,
        components: [
          textInput('prompt', 'Prompt', TextInputStyle.Paragraph, {
            required: true,
            max_length: PROMPT_MAX_CHARS,
            value: track.prompt,
          }),
          textInput('length', 'Length in seconds', TextInputStyle.Short, {
            required: false,
            max_length: 3,
            value: String(track.lengthSeconds),
          }),
        ],
      });
      return;
    case 'cancel':
      await cancel(interaction, track, context);
      return;
    case 'delete':
      await remove(interaction, track, context);
      return;
    case 'lyrics':
      // Anyone who can see the track may read its words; only they see the answer.
      if (track.lyrics === null) {
        await replyPrivately(interaction, 'This track was not made from lyrics, so there are none to show.');
        return;
      }
      await interaction.reply({
        ...renderTrackLyrics(track.trackNumber, track.lyrics),
        allowedMentions: noPings(),
        flags: MessageFlags.Ephemeral,
      });
      return;
    default:
      await replyPrivately(interaction, unknownButton);
  }
}

async function modal(
  interaction: ModalSubmitInteraction,
  id: CustomId,
  context: CommandContext,
): Promise<void> {
  const track = await findTrack(interaction, id, context);
  if (!track) return;
  if (id.action !== 'remix') {
    await replyPrivately(interaction, unknownButton);
    return;
  }
  await requestTrack(interaction, context, {
    prompt: textField(interaction, 'prompt'),
    length: lengthFromText(textField(interaction, 'length')),
    kind: 'remix',
    parent: track,
  });
}

function songRecordOf(track: TrackRecord): SongRecord {
  const song = songDetailsOf(track);
  return {
    style: song?.style,
    lyrics: track.lyrics ?? undefined,
    vocals: song?.vocals,
    credit: song?.credit,
  };
}

const unknownButton = 'That button is not one Tracksmith recognises. Run the command again.';

/** The request the button names, if it exists and belongs to the server the click came from. */
async function findTrack(
  interaction: TrackInteraction,
  id: CustomId,
  context: CommandContext,
): Promise<TrackRecord | undefined> {
  const track = id.argument === undefined ? undefined : await context.tracks.get(id.argument);
  if (!track) {
    await replyPrivately(interaction, 'That track is not in the history, so this button does nothing.');
    return undefined;
  }
  if (track.guildId !== interaction.guildId) {
    context.logger.warn({ trackGuildId: track.guildId }, 'button for a track of another server');
    await replyPrivately(interaction, 'That button belongs to a track from another server.');
    return undefined;
  }
  return track;
}

async function mayManage(interaction: ButtonInteraction, track: TrackRecord, verb: string): Promise<boolean> {
  if (track.userId === interaction.user.id || isModerator(interaction)) return true;
  await replyPrivately(
    interaction,
    `Only ${userMention(track.userId)} or a moderator can ${verb} this track.`,
  );
  return false;
}

async function cancel(
  interaction: ButtonInteraction,
  track: TrackRecord,
  context: CommandContext,
): Promise<void> {
  if (!(await mayManage(interaction, track, 'cancel'))) return;
  switch (await context.jobs.cancel(track.id, interaction.user.id)) {
    case 'cancelled':
      // The job edits its own message to say who cancelled it; the click needs no message of its own.
      await interaction.deferUpdate();
      return;
    case 'too-late':
      await replyPrivately(interaction, 'Too late to cancel: the track is finished and on its way.');
      return;
    case 'not-running':
      await replyPrivately(
        interaction,
        'This request is not running any more, so there is nothing to cancel.',
      );
  }
}

async function remove(
  interaction: ButtonInteraction,
  track: TrackRecord,
  context: CommandContext,
): Promise<void> {
  if (!(await mayManage(interaction, track, 'delete'))) return;
  const ref = trackRef(track.trackNumber);
  if (track.status === 'queued' || track.status === 'submitted') {
    await replyPrivately(interaction, 'This track is still being made. Use Cancel to stop it.');
    return;
  }
  if (track.deletedAt !== null) {
    await replyPrivately(interaction, `Track ${ref} was already deleted.`);
    return;
  }
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  // Only the message the bot recorded for this track, never one named by the payload.
  if (track.replyMessageId !== null) {
    try {
      await interaction.client.rest.delete(Routes.channelMessage(track.channelId, track.replyMessageId));
    } catch (error) {
      if (!isUnknownMessage(error)) throw error;
    }
  }
  await context.tracks.markDeleted(track.id, interaction.user.id, context.now());
  context.logger.info({ requestId: track.id, trackNumber: track.trackNumber }, 'track message deleted');
  const history =
    track.trackNumber === null ? '' : ` Its record stays in \`/tracks show number:${track.trackNumber}\`.`;
  await interaction.editReply(renderNotice(`Deleted track ${ref}.${history}`));
}

export const trackButtons: ComponentHandler = { scope: 'track', button, modal };
