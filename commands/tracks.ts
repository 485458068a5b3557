import {
  ApplicationCommandOptionType,
  MessageFlags,
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
import { optionValue, runSubcommand } from '../src/discord/options.js';
import { renderNotice } from '../src/discord/render.js';
import { replyPrivately } from '../src/discord/reply.js';
import { renderTrackDetails, renderTrackPage, TRACKS_PAGE_SIZE } from '../src/discord/render-tracks.js';
import type { TrackRecord } from '../src/domain/track.js';

/** Far more than any server will make; bounds what a crafted number can ask for. */
const MAX_TRACK_NUMBER = 1_000_000_000;
/** How far up a lineage `show` walks. */
const MAX_ANCESTORS = 5;

const data = {
  name: 'tracks',
  description: "Browse this server's tracks",
  ...serverSlashCommand,
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'recent',
      description: 'The newest tracks, with what each one builds on',
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'show',
      description: "One track's details, lineage and remixes",
      options: [
        {
          type: ApplicationCommandOptionType.Integer,
          name: 'number',
          description: 'The track number, as in #42',
          required: true,
          min_value: 1,
          max_value: MAX_TRACK_NUMBER,
        },
      ],
    },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

const recent: Subcommand = async (interaction, context) => {
  await interaction.reply({
    ...(await page(interaction.guildId, 0, context)),
    flags: MessageFlags.Ephemeral,
  });
};

const show: Subcommand = async (interaction, context) => {
  await interaction.reply({
    ...(await trackDetails(interaction.guildId, optionValue(interaction, 'number'), context)),
    flags: MessageFlags.Ephemeral,
  });
};

const subcommands: Record<string, Subcommand> = { recent, show };

async function execute(interaction: ChatInputCommandInteraction, context: CommandContext): Promise<void> {
  if (!interaction.inGuild()) {
    await replyPrivately(interaction, 'Use /tracks in a server.');
    return;
  }
  await runSubcommand(interaction, subcommands, context, 'Unknown subcommand. Try /tracks recent.');
}

async function page(guildId: string, requested: number, context: CommandContext) {
  const listed = await context.tracks.recent(guildId, requested * TRACKS_PAGE_SIZE, TRACKS_PAGE_SIZE);
  const last = Math.max(0, Math.ceil(listed.total / TRACKS_PAGE_SIZE) - 1);
  if (requested <= last) return renderTrackPage({ page: requested, ...listed });
  // A page that no longer exists (a crafted number, or fewer tracks since) shows the last one.
  const { tracks, total } = await context.tracks.recent(guildId, last * TRACKS_PAGE_SIZE, TRACKS_PAGE_SIZE);
  return renderTrackPage({ page: last, total, tracks });
}

async function trackDetails(guildId: string, number: unknown, context: CommandContext) {
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > MAX_TRACK_NUMBER) {
    return renderNotice('The track number must be a whole number from 1, as in `/tracks show number:42`.');
  }
  const listing = await context.tracks.byNumber(guildId, number);
  if (!listing)
    return renderNotice(`There is no track #${number} in this server. \`/tracks recent\` lists them.`);
  const ancestors: TrackRecord[] = [];
  let parentId = listing.track.parentId;
  while (parentId !== null && ancestors.length < MAX_ANCESTORS) {
    const parent = await context.tracks.get(parentId);
    if (!parent) break;
    ancestors.push(parent);
    parentId = parent.parentId;
  }
  return renderTrackDetails({
    listing,
    ancestors,
    children: await context.tracks.children(listing.track.id),
  });
}

/** Newer/Older: the argument is a page number; anything else is refused, a large one is clamped. */
async function turnPage(
  interaction: ButtonInteraction,
  id: CustomId,
  context: CommandContext,
): Promise<void> {
  const requested =
    id.argument !== undefined && /^\d{1,6}$/.test(id.argument) ? Number(id.argument) : undefined;
  if (!interaction.inGuild() || requested === undefined || (id.action !== 'newer' && id.action !== 'older')) {
    await replyPrivately(
      interaction,
      'That page button is not one Tracksmith recognises. Run /tracks recent again.',
    );
    return;
  }
  await interaction.update(await page(interaction.guildId, requested, context));
}

export const tracks: SlashCommand = { data, execute };
export const tracksPaging: ComponentHandler = { scope: 'tracks', button: turnPage };
