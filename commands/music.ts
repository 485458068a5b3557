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
import { DEFAULT_UPLOAD_LIMIT_BYTES } from '../src/discord/limits.js';
import { renderNotice } from '../src/discord/render.js';
import {
  LENGTH_MAX_SECONDS,
  LENGTH_MIN_SECONDS,
  PROMPT_MAX_CHARS,
  validateMusicRequest,
} from '../src/generation/request.js';

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
      description: `Length in seconds, ${LENGTH_MIN_SECONDS} to ${LENGTH_MAX_SECONDS} (the server's default if left out)`,
      min_value: LENGTH_MIN_SECONDS,
      max_value: LENGTH_MAX_SECONDS,
    },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

async function execute(interaction: ChatInputCommandInteraction, context: CommandContext): Promise<void> {
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

  const origin = {
    guildId: interaction.guildId,
    channelId: interaction.channelId,
    userId: interaction.user.id,
    reply: { applicationId: interaction.applicationId, interactionToken: interaction.token },
    uploadLimitBytes: uploadLimit(interaction.attachmentSizeLimit),
  };
  // A local transaction, no network: the acknowledgement still comes well inside Discord's 3 s.
  const id = context.newId();
  const reservation = await context.reserve({
    id,
    guildId: origin.guildId,
    channelId: origin.channelId,
    userId: origin.userId,
    memberRoleIds: memberRoles(interaction),
    prompt: checked.value.prompt,
    lengthSeconds: checked.value.lengthSeconds,
    reply: { ...origin.reply, uploadLimitBytes: origin.uploadLimitBytes },
  });
  if (!reservation.ok) {
    await interaction.reply({ ...renderNotice(reservation.refusal.message), flags: MessageFlags.Ephemeral });
    return;
  }

  try {
    await interaction.deferReply();
  } catch (error) {
    // Unacknowledged, the request must not be generated later as if the member had seen it start.
    await context.usage.markFailed(id, 'the interaction could not be acknowledged', null, context.now());
    throw error;
  }
  context.generation.start(
    { prompt: checked.value.prompt, lengthSeconds: reservation.lengthSeconds },
    origin,
    id,
  );
}

/** Role IDs from the member as Discord sent it, cached or not. */
export function memberRoles(interaction: ChatInputCommandInteraction<'cached' | 'raw'>): string[] {
  const roles = interaction.member.roles;
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

export const music: SlashCommand = { data, execute };
