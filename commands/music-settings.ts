import {
  ApplicationCommandOptionType,
  MessageFlags,
  PermissionFlagsBits,
  type APIApplicationCommandBasicOption,
  type APIEmbed,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import {
  type CommandContext,
  type SlashCommand,
  type ServerChatInput,
  type Subcommand,
  serverSlashCommand,
} from '../src/discord/command.js';
import { hasOption, optionValue, runSubcommand } from '../src/discord/options.js';
import { noPings } from '../src/discord/render.js';
import {
  describeChange,
  renderBlockedWords,
  renderSettings,
  renderUsage,
} from '../src/discord/render-settings.js';
import {
  CLEAR_EXEMPT_ROLE_OPTION,
  EXEMPT_ROLE_OPTION,
  NUMERIC_SETTINGS,
  numericChange,
  type SettingsChange,
} from '../src/domain/settings.js';
import type { SettingsActor } from '../src/limits/settings-service.js';
import { utcDayStart, utcMonthStart } from '../src/limits/time.js';

const numericOptions: APIApplicationCommandBasicOption[] = Object.values(NUMERIC_SETTINGS).map((spec) => ({
  type: ApplicationCommandOptionType.Integer,
  name: spec.option,
  description: `${spec.label}${spec.zeroDisables ? ' (0 = no cap)' : ''}`,
  min_value: spec.min,
  max_value: spec.max,
}));

const wordOption = {
  type: ApplicationCommandOptionType.String,
  name: 'word',
  description: 'Word or phrase',
  required: true,
  max_length: 50,
} as const satisfies APIApplicationCommandBasicOption;

const data = {
  name: 'music-settings',
  description: "Set this server's limits for /music",
  ...serverSlashCommand,
  default_member_permissions: PermissionFlagsBits.ManageGuild.toString(),
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'show',
      description: 'Every setting, its default, and recent changes',
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'set',
      description: 'Change one or more settings',
      options: [
        ...numericOptions,
        {
          type: ApplicationCommandOptionType.Role,
          name: EXEMPT_ROLE_OPTION,
          description: 'Members with this role skip the per-member limits',
        },
        {
          type: ApplicationCommandOptionType.Boolean,
          name: CLEAR_EXEMPT_ROLE_OPTION,
          description: 'Stop exempting any role',
        },
      ],
    },
    { type: ApplicationCommandOptionType.Subcommand, name: 'reset', description: 'Restore every default' },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'usage',
      description: "Today's and this month's use",
    },
    {
      type: ApplicationCommandOptionType.SubcommandGroup,
      name: 'blocked-words',
      description: 'Words that prompts may not contain',
      options: [
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: 'add',
          description: 'Block a word or short phrase',
          options: [wordOption],
        },
        {
          type: ApplicationCommandOptionType.Subcommand,
          name: 'remove',
          description: 'Allow a word again',
          options: [wordOption],
        },
        { type: ApplicationCommandOptionType.Subcommand, name: 'list', description: 'Every blocked word' },
      ],
    },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

/** Every answer is private and pings nobody: it names members and roles by mention. */
const reply = (interaction: ChatInputCommandInteraction, content: string, embeds: APIEmbed[] = []) =>
  interaction.reply({ content, embeds, allowedMentions: noPings(), flags: MessageFlags.Ephemeral });

const actorOf = (interaction: ServerChatInput): SettingsActor => ({
  userId: interaction.user.id,
  source: 'discord',
});

const show: Subcommand = async (interaction, context) => {
  const [settings, changes, words] = await Promise.all([
    context.settings.get(interaction.guildId),
    context.settings.recentChanges(interaction.guildId, 5),
    context.settings.blockedWords(interaction.guildId),
  ]);
  await reply(interaction, '', renderSettings({ settings, changes, blockedWords: words.length }));
};

const set: Subcommand = async (interaction, context) => {
  if (
    hasOption(interaction, EXEMPT_ROLE_OPTION) &&
    optionValue(interaction, CLEAR_EXEMPT_ROLE_OPTION) === true
  ) {
    await reply(
      interaction,
      `Nothing was changed: give ${EXEMPT_ROLE_OPTION} or ${CLEAR_EXEMPT_ROLE_OPTION}, not both.`,
    );
    return;
  }
  const change = readChange(interaction);
  if (Object.keys(change).length === 0) {
    await reply(
      interaction,
      'Give at least one setting to change, for example `/music-settings set user-daily: 5`.',
    );
    return;
  }
  const outcome = await context.settingsService.change(
    interaction.guildId,
    change,
    actorOf(interaction),
    context.now(),
  );
  if (!outcome.ok) {
    await reply(interaction, `Nothing was changed:\n${outcome.problems.map((p) => `- ${p}`).join('\n')}`);
    return;
  }
  const { changes } = outcome;
  await reply(
    interaction,
    changes.length === 0
      ? 'Those were already the settings; nothing changed.'
      : `Updated:\n${changes.map(describeChange).join('\n')}`,
  );
};

const reset: Subcommand = async (interaction, context) => {
  const outcome = await context.settingsService.reset(
    interaction.guildId,
    actorOf(interaction),
    context.now(),
  );
  const changes = outcome.ok ? outcome.changes : [];
  await reply(
    interaction,
    changes.length === 0
      ? 'Every setting was already at its default.'
      : `Restored the defaults:\n${changes.map(describeChange).join('\n')}`,
  );
};

const usage: Subcommand = async (interaction, context) => {
  const { guildId } = interaction;
  const now = context.now();
  const today = utcDayStart(now);
  const month = utcMonthStart(now);
  const [settings, tracksToday, tracksMonth, creditsToday, creditsMonth, top] = await Promise.all([
    context.settings.get(guildId),
    context.usage.countGuildSince(guildId, today),
    context.usage.countGuildSince(guildId, month),
    context.usage.creditsGuildSince(guildId, today),
    context.usage.creditsGuildSince(guildId, month),
    context.usage.topMembersSince(guildId, today, 10),
  ]);
  await reply(interaction, '', [
    renderUsage({ now, settings, tracksToday, tracksMonth, creditsToday, creditsMonth, top }),
  ]);
};

const listBlockedWords: Subcommand = async (interaction, context) => {
  await reply(interaction, renderBlockedWords(await context.settings.blockedWords(interaction.guildId)));
};

const blockWord: Subcommand = async (interaction, context) => {
  const outcome = await context.settingsService.addBlockedWord(
    interaction.guildId,
    optionValue(interaction, 'word'),
    actorOf(interaction),
    context.now(),
  );
  if (!outcome.ok) {
    await reply(interaction, outcome.problem);
    return;
  }
  const shown = `\`${outcome.word}\``;
  await reply(
    interaction,
    outcome.changed ? `Prompts containing ${shown} will be refused.` : `${shown} was already blocked.`,
  );
};

const allowWord: Subcommand = async (interaction, context) => {
  const outcome = await context.settingsService.removeBlockedWord(
    interaction.guildId,
    optionValue(interaction, 'word'),
  );
  if (!outcome.ok) {
    await reply(interaction, outcome.problem);
    return;
  }
  const shown = `\`${outcome.word}\``;
  await reply(interaction, outcome.changed ? `${shown} is allowed again.` : `${shown} was not blocked.`);
};

const subcommands: Record<string, Subcommand> = {
  show,
  set,
  reset,
  usage,
  'blocked-words add': blockWord,
  'blocked-words remove': allowWord,
  'blocked-words list': listBlockedWords,
};

/** The options that were given, as raw values: validation happens after, on all of them at once. */
function readChange(interaction: ServerChatInput): SettingsChange {
  const change = numericChange(
    (option) => optionValue(interaction, option),
    (value) => (typeof value === 'number' ? value : Number.NaN),
  );
  const role = optionValue(interaction, EXEMPT_ROLE_OPTION);
  if (role !== undefined) change.exemptRoleId = String(role);
  if (optionValue(interaction, CLEAR_EXEMPT_ROLE_OPTION) === true) change.exemptRoleId = null;
  return change;
}

async function execute(interaction: ChatInputCommandInteraction, context: CommandContext): Promise<void> {
  // default_member_permissions only hides the command; a crafted payload can still invoke it.
  if (!interaction.inGuild() || !interaction.memberPermissions.has(PermissionFlagsBits.ManageGuild)) {
    await reply(interaction, "You need the Manage Server permission to change Tracksmith's settings.");
    return;
  }
  await runSubcommand(
    interaction,
    subcommands,
    context,
    'That subcommand is not known. Try `/music-settings show`.',
  );
}

export const musicSettings: SlashCommand = { data, execute };
