import { Routes, type APIMessage, type ModalSubmitInteraction } from 'discord.js';
import type { MessageCredit } from '../generation/ports.js';
import { isMissingAccess, isUnknownMessage } from './discord-errors.js';

/**
 * The credit for lyrics taken from a message, read from Discord with the bot's own token when the
 * form comes back: the form's custom_id names only a message ID, so the author and the channel are
 * never taken from the payload. Only a message in the channel the form was sent from counts.
 */
export async function fetchMessageCredit(
  interaction: ModalSubmitInteraction,
  messageId: string | undefined,
): Promise<{ ok: true; value: MessageCredit } | { ok: false; problem: string }> {
  if (
    !interaction.inGuild() ||
    interaction.channelId === null ||
    messageId === undefined ||
    !/^\d{17,20}$/.test(messageId)
  ) {
    return {
      ok: false,
      problem: 'That form does not name a message of this channel. Use the message menu again.',
    };
  }
  let message: APIMessage;
  try {
    message = (await interaction.client.rest.get(
      Routes.channelMessage(interaction.channelId, messageId),
    )) as APIMessage;
  } catch (error) {
    if (isUnknownMessage(error) || isMissingAccess(error)) {
      return {
        ok: false,
        problem: 'The message these lyrics came from is gone or out of reach, so the track cannot credit it.',
      };
    }
    throw error;
  }
  const author = message.author;
  return {
    ok: true,
    value: {
      authorId: author.id,
      authorName: (author.global_name ?? author.username).slice(0, 100),
      guildId: interaction.guildId,
      channelId: interaction.channelId,
      messageId: message.id,
    },
  };
}
