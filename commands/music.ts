import {
  ApplicationCommandOptionType,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { type CommandContext, type SlashCommand, serverSlashCommand } from '../src/discord/command.js';
import { requestTrack } from '../src/discord/request-track.js';
import { LENGTH_MAX_SECONDS, LENGTH_MIN_SECONDS, PROMPT_MAX_CHARS } from '../src/generation/request.js';

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
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

async function execute(interaction: ChatInputCommandInteraction, context: CommandContext): Promise<void> {
  // Raw values, not getString/getInteger: a crafted payload may carry any type, and it must get
  // the same clear message as a bad value.
  await requestTrack(interaction, context, {
    prompt: interaction.options.get('prompt')?.value,
    length: interaction.options.get('length')?.value,
    kind: 'music',
  });
}

export const music: SlashCommand = { data, execute };
