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
  type Subcommand,
  serverSlashCommand,
} from '../src/discord/command.js';
import type { CustomId } from '../src/discord/custom-id.js';
import { runSubcommand } from '../src/discord/options.js';
import { isModerator } from '../src/discord/permissions.js';
import { renderNotice } from '../src/discord/render.js';
import { replyPrivately } from '../src/discord/reply.js';
import { NOT_LISTENING, type ActionResult } from '../src/voice/manager.js';
import { renderQueue } from '../src/voice/render.js';

const data = {
  name: 'listen',
  description: "Play this server's new tracks in a voice channel",
  ...serverSlashCommand,
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'start',
      description: 'Join your voice channel and play new tracks there',
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'queue',
      description: 'What plays now and what comes next',
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'skip',
      description: 'Skip the track playing now',
    },
    { type: ApplicationCommandOptionType.Subcommand, name: 'stop', description: 'Leave the voice channel' },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

const start: Subcommand<'cached'> = async (interaction, context) => {
  const result = await context.voice.start(interaction.guild, interaction.user.id, interaction.channelId);
  if (result.kind !== 'started') {
    await replyPrivately(interaction, result.message);
    return;
  }
  // Public: everyone in the text channel learns where to listen; this message becomes the now-playing line.
  const reply = await interaction.reply({
    ...renderNotice(`🎧 Listening in <#${result.channelId}>: every new track from this server plays there.`),
    withResponse: true,
  });
  const messageId = reply.resource?.message?.id;
  if (messageId !== undefined) await context.voice.attachStatusMessage(interaction.guildId, messageId);
};

const queue: Subcommand<'cached'> = async (interaction, context) => {
  const view = await context.voice.queue(interaction.guildId);
  await replyPrivately(interaction, view ? renderQueue(view) : NOT_LISTENING);
};

const skip: Subcommand<'cached'> = async (interaction, context) => {
  await answer(interaction, context.voice.skip(interaction.guild, interaction.user.id));
};

const stop: Subcommand<'cached'> = async (interaction, context) => {
  await answer(
    interaction,
    await context.voice.stop(interaction.guildId, interaction.user.id, isModerator(interaction)),
  );
};

const subcommands: Record<string, Subcommand<'cached'>> = { start, queue, skip, stop };

/** Refusals are private; a skip or a stop is said in the channel, so listeners know who did it. */
async function answer(
  interaction: ChatInputCommandInteraction | ButtonInteraction,
  result: ActionResult,
): Promise<void> {
  if (result.kind === 'refused') {
    await replyPrivately(interaction, result.message);
    return;
  }
  await interaction.reply(renderNotice(result.message));
}

export const listen: SlashCommand = {
  data,
  async execute(interaction, context) {
    const help = 'Use `/listen start`, `queue`, `skip` or `stop` in a server.';
    if (!interaction.inCachedGuild()) {
      await replyPrivately(interaction, help);
      return;
    }
    await runSubcommand(interaction, subcommands, context, help);
  },
};

/** Play in voice, on every track message: queues that track, however old. */
export const voiceButtons: ComponentHandler = {
  scope: 'voice',
  async button(interaction: ButtonInteraction, id: CustomId, context: CommandContext) {
    const track =
      id.action === 'play' && id.argument !== undefined ? await context.tracks.get(id.argument) : undefined;
    if (
      !interaction.inCachedGuild() ||
      !track ||
      track.guildId !== interaction.guildId ||
      track.trackNumber === null
    ) {
      await replyPrivately(
        interaction,
        'That track is not one of this server’s, so it cannot be played here.',
      );
      return;
    }
    const result = await context.voice.queueTrack(interaction.guild, interaction.user.id, track.id);
    // Queued or refused, only the clicker is told.
    await replyPrivately(interaction, result.message);
  },
};
