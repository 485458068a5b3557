import {
  ApplicationCommandOptionType,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import {
  type CommandContext,
  type ComponentHandler,
  type SlashCommand,
  serverSlashCommand,
} from '../src/discord/command.js';
import { composeForm } from '../src/discord/compose-form.js';
import type { CustomId } from '../src/discord/custom-id.js';
import { draftLyrics } from '../src/discord/lyrics-draft.js';
import { optionValue } from '../src/discord/options.js';
import { replyPrivately } from '../src/discord/reply.js';
import { IDEA_MAX_CHARS } from '../src/songwriting/lyrics.js';
import { STYLE_MAX_CHARS, validateStyle } from '../src/songwriting/prompt.js';

const data = {
  name: 'lyrics',
  description: 'Draft song lyrics from an idea, then make the song',
  ...serverSlashCommand,
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: 'idea',
      description: 'What the song is about',
      required: true,
      max_length: IDEA_MAX_CHARS,
    },
    {
      type: ApplicationCommandOptionType.String,
      name: 'style',
      description: 'A genre or style for the song',
      max_length: STYLE_MAX_CHARS,
    },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

async function execute(interaction: ChatInputCommandInteraction, context: CommandContext): Promise<void> {
  const raw = optionValue(interaction, 'idea');
  const idea = typeof raw === 'string' ? raw.trim() : '';
  const style = validateStyle(optionValue(interaction, 'style'));
  if (idea === '' || idea.length > IDEA_MAX_CHARS) {
    await replyPrivately(
      interaction,
      idea === ''
        ? 'The idea is empty. Say what the song is about, for example "a lighthouse keeper in love".'
        : `The idea is ${idea.length.toLocaleString('en-US')} characters; the limit is ${IDEA_MAX_CHARS}.`,
    );
    return;
  }
  if (!style.ok) {
    await replyPrivately(interaction, style.problems.join('\n'));
    return;
  }
  await draftLyrics(interaction, context, { idea, style: style.value ?? null });
}

/** Make this song and Redraft: the custom_id names the draft; it is looked up and checked again. */
async function button(interaction: ButtonInteraction, id: CustomId, context: CommandContext): Promise<void> {
  const draft = id.argument === undefined ? undefined : await context.songwriting.draft(id.argument);
  if (!draft || draft.guildId !== interaction.guildId) {
    await replyPrivately(
      interaction,
      'That draft is not in this server’s history, so this button does nothing.',
    );
    return;
  }
  switch (id.action) {
    case 'make':
      if (draft.status !== 'drafted' || draft.lyrics === null) {
        await replyPrivately(
          interaction,
          'That draft has no lyrics to use. Press Redraft or run /lyrics again.',
        );
        return;
      }
      await interaction.showModal(composeForm({ style: draft.style ?? undefined, lyrics: draft.lyrics }));
      return;
    case 'redraft':
      await draftLyrics(interaction, context, { idea: draft.idea, style: draft.style });
      return;
    default:
      await replyPrivately(interaction, 'That button is not one Tracksmith recognises. Run /lyrics again.');
  }
}

export const lyrics: SlashCommand = { data, execute };
export const lyricsButtons: ComponentHandler = { scope: 'lyrics', button };
