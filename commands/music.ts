import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  MessageFlags,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { CommandContext, SlashCommand } from '../src/discord/command.js';
import { renderNotice } from '../src/discord/render.js';
import {
  LENGTH_DEFAULT_SECONDS,
  LENGTH_MAX_SECONDS,
  LENGTH_MIN_SECONDS,
  PROMPT_MAX_CHARS,
  validateMusicRequest,
} from '../src/generation/request.js';

/** Discord's default upload limit for bots, used when an interaction does not state its own. */
export const DEFAULT_UPLOAD_LIMIT_BYTES = 10 * 1024 * 1024;

const data = {
  name: 'music',
  description: 'Generate a music track from a description of it',
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
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
      description: `Length in seconds, ${LENGTH_MIN_SECONDS} to ${LENGTH_MAX_SECONDS} (default ${LENGTH_DEFAULT_SECONDS})`,
      min_value: LENGTH_MIN_SECONDS,
      max_value: LENGTH_MAX_SECONDS,
    },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

async function execute(
  interaction: ChatInputCommandInteraction,
  { generation }: CommandContext,
): Promise<void> {
  if (!interaction.inGuild()) {
    await interaction.reply({ ...renderNotice('Use /music in a server.'), flags: MessageFlags.Ephemeral });
    return;
  }
  // Raw values, not getString/getInteger: a crafted payload may carry any type, and it must get
  // the same clear message as a bad value.
  const checked = validateMusicRequest({
    prompt: interaction.options.get('prompt')?.value,
    length: interaction.options.get('length')?.value,
  });
  if (!checked.ok) {
    await interaction.reply({ ...renderNotice(checked.problems.join('\n')), flags: MessageFlags.Ephemeral });
    return;
  }

  // Acknowledge before anything that touches the network: Discord allows 3 seconds.
  await interaction.deferReply();
  generation.start(checked.value, {
    guildId: interaction.guildId,
    channelId: interaction.channelId,
    userId: interaction.user.id,
    reply: { applicationId: interaction.applicationId, interactionToken: interaction.token },
    uploadLimitBytes: uploadLimit(interaction.attachmentSizeLimit),
  });
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

export const music: SlashCommand = { data, execute };
