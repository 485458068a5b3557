import {
  ApplicationCommandOptionType,
  type AutocompleteInteraction,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { type CommandContext, type SlashCommand, serverSlashCommand } from '../src/discord/command.js';
import { optionValue } from '../src/discord/options.js';
import { replyPrivately } from '../src/discord/reply.js';
import { requestSong } from '../src/discord/request-song.js';
import { LENGTH_MAX_SECONDS, LENGTH_MIN_SECONDS, PROMPT_MAX_CHARS } from '../src/generation/request.js';
import { STYLE_MAX_CHARS } from '../src/songwriting/prompt.js';
import { styleChoices } from '../src/songwriting/styles.js';

const data = {
  name: 'music',
  description: 'Generate a music track from a description of it',
  ...serverSlashCommand,
  options: [
    {
      type: ApplicationCommandOptionType.String,
      name: 'prompt',
      description: 'Genre, mood, instruments, structure, or full lyrics',
      required: true,
      max_length: PROMPT_MAX_CHARS,
    },
    {
      type: ApplicationCommandOptionType.Integer,
      name: 'length',
      description: `Length in seconds, ${LENGTH_MIN_SECONDS} to ${LENGTH_MAX_SECONDS} (the server's default if left out)`,
      min_value: LENGTH_MIN_SECONDS,
      max_value: LENGTH_MAX_SECONDS,
    },
    {
      type: ApplicationCommandOptionType.String,
      name: 'style',
      description: 'A genre or style; the prompt is then sung as lyrics in it',
      max_length: STYLE_MAX_CHARS,
      autocomplete: true,
    },
    {
      type: ApplicationCommandOptionType.Boolean,
      name: 'instrumental',
      description: 'True for no vocals, false for sung vocals',
    },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

async function execute(interaction: ChatInputCommandInteraction, context: CommandContext): Promise<void> {
  // Raw values (see optionValue): requestSong validates each.
  const problems = await requestSong(interaction, context, {
    kind: 'music',
    prompt: optionValue(interaction, 'prompt'),
    length: optionValue(interaction, 'length'),
    style: optionValue(interaction, 'style'),
    vocals: optionValue(interaction, 'instrumental'),
  });
  if (problems) await replyPrivately(interaction, problems.join('\n'));
}

/** Style suggestions: this server's favourites of the last 30 days, then curated genres. */
async function autocomplete(interaction: AutocompleteInteraction, context: CommandContext): Promise<void> {
  const focused = interaction.options.getFocused(true);
  const popular =
    focused.name === 'style' && interaction.guildId !== null
      ? await context.popularStyles(interaction.guildId)
      : [];
  const choices = focused.name === 'style' ? styleChoices(focused.value, popular) : [];
  await interaction.respond(choices.map((style) => ({ name: style, value: style })));
}

export const music: SlashCommand = { data, execute, autocomplete };
