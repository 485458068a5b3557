import {
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  type MessageContextMenuCommandInteraction,
  type RESTPostAPIContextMenuApplicationCommandsJSONBody,
} from 'discord.js';
import type { MessageCommand } from '../src/discord/command.js';
import { composeForm } from '../src/discord/compose-form.js';
import { replyPrivately } from '../src/discord/reply.js';
import { PROMPT_MAX_CHARS } from '../src/generation/request.js';

const data = {
  name: 'Make a track from this',
  type: ApplicationCommandType.Message,
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
} as const satisfies RESTPostAPIContextMenuApplicationCommandsJSONBody;

/**
 * A message's text as the lyrics of a new song: opens the compose form with it. The form's
 * custom_id names the message, and the submission reads its author from Discord for the credit.
 */
async function execute(interaction: MessageContextMenuCommandInteraction): Promise<void> {
  const text =
    typeof interaction.targetMessage.content === 'string' ? interaction.targetMessage.content.trim() : '';
  if (text === '') {
    await replyPrivately(
      interaction,
      'That message has no text to use as lyrics (only attachments or embeds). Pick a message with words in it.',
    );
    return;
  }
  if (text.length > PROMPT_MAX_CHARS) {
    await replyPrivately(
      interaction,
      `That message is ${text.length.toLocaleString('en-US')} characters; lyrics can be at most ${PROMPT_MAX_CHARS.toLocaleString('en-US')}. Copy the part you want into /compose.`,
    );
    return;
  }
  await interaction.showModal(composeForm({ lyrics: text, messageId: interaction.targetId }));
}

export const makeTrackFromMessage: MessageCommand = { data, execute };
