import {
  ApplicationCommandOptionType,
  MessageFlags,
  PermissionFlagsBits,
  type APIApplicationCommandBasicOption,
  type APIEmbed,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { type CommandContext, type SlashCommand, serverSlashCommand } from '../src/discord/command.js';
import { noPings } from '../src/discord/render.js';
import {
  DEFAULT_SETTINGS,
  describeSetting,
  CLEAR_EXEMPT_ROLE_OPTION,
  EXEMPT_ROLE_OPTION,
  NUMERIC_SETTINGS,
  type NumericSettingKey,
  type SettingKey,
  type SettingsChange,
  type SettingsChangeRecord,
} from '../src/domain/settings.js';
import {
  nextUtcMidnight,
  nextUtcMonth,
  relativeTime,
  utcDayStart,
  utcMonthStart,
} from '../src/limits/time.js';

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

const settingOrder: SettingKey[] = [
  'maxLengthSeconds',
  'defaultLengthSeconds',
  'userDaily',
  'guildDaily',
  'cooldownSeconds',
  'concurrent',
  'monthlyCredits',
  'lyricsDaily',
  'exemptRoleId',
];

const optionName = (key: SettingKey) =>
  key === 'exemptRoleId' ? EXEMPT_ROLE_OPTION : NUMERIC_SETTINGS[key].option;

async function execute(interaction: ChatInputCommandInteraction, context: CommandContext): Promise<void> {
  const reply = (content: string, embeds: APIEmbed[] = []) =>
    interaction.reply({ content, embeds, allowedMentions: noPings(), flags: MessageFlags.Ephemeral });

  // default_member_permissions only hides the command; a crafted payload can still invoke it.
  if (!interaction.inGuild() || !interaction.memberPermissions.has(PermissionFlagsBits.ManageGuild)) {
    await reply("You need the Manage Server permission to change Tracksmith's settings.");
    return;
  }
  const guildId = interaction.guildId;
  const group = interaction.options.getSubcommandGroup(false);
  const subcommand = interaction.options.getSubcommand(false);
  const now = context.now();
  const actor = { userId: interaction.user.id, source: 'discord' } as const;

  if (group === 'blocked-words') {
    if (subcommand === 'list') {
      const words = await context.settings.blockedWords(guildId);
      await reply(
        words.length === 0
          ? 'No words are blocked.'
          : `Blocked words (${words.length}): ${words.map((w) => `\`${w}\``).join(', ')}`,
      );
      return;
    }
    const word = interaction.options.get('word')?.value;
    const outcome =
      subcommand === 'add'
        ? await context.settingsService.addBlockedWord(guildId, word, actor, now)
        : await context.settingsService.removeBlockedWord(guildId, word);
    if (!outcome.ok) {
      await reply(outcome.problem);
      return;
    }
    const shown = `\`${outcome.word}\``;
    await reply(
      subcommand === 'add'
        ? outcome.changed
          ? `Prompts containing ${shown} will be refused.`
          : `${shown} was already blocked.`
        : outcome.changed
          ? `${shown} is allowed again.`
          : `${shown} was not blocked.`,
    );
    return;
  }

  switch (subcommand) {
    case 'show': {
      const [settings, changes, words] = await Promise.all([
        context.settings.get(guildId),
        context.settings.recentChanges(guildId, 5),
        context.settings.blockedWords(guildId),
      ]);
      const lines = settingOrder.map(
        (key) =>
          `**${optionName(key)}**: ${describeSetting(key, settings[key])} (default ${describeSetting(key, DEFAULT_SETTINGS[key])})`,
      );
      lines.push(`**blocked-words**: ${words.length}`);
      const embeds: APIEmbed[] = [{ title: 'Tracksmith settings', description: lines.join('\n') }];
      if (changes.length > 0)
        embeds.push({ title: 'Recent changes', description: changes.map(describeChange).join('\n') });
      await reply('', embeds);
      return;
    }
    case 'set': {
      if (
        interaction.options.get(EXEMPT_ROLE_OPTION) !== null &&
        interaction.options.get(CLEAR_EXEMPT_ROLE_OPTION)?.value === true
      ) {
        await reply(
          `Nothing was changed: give ${EXEMPT_ROLE_OPTION} or ${CLEAR_EXEMPT_ROLE_OPTION}, not both.`,
        );
        return;
      }
      const change = readChange(interaction);
      if (Object.keys(change).length === 0) {
        await reply('Give at least one setting to change, for example `/music-settings set user-daily: 5`.');
        return;
      }
      const outcome = await context.settingsService.change(guildId, change, actor, now);
      if (!outcome.ok) {
        await reply(`Nothing was changed:\n${outcome.problems.map((p) => `- ${p}`).join('\n')}`);
        return;
      }
      const { changes } = outcome;
      await reply(
        changes.length === 0
          ? 'Those were already the settings; nothing changed.'
          : `Updated:\n${changes.map(describeChange).join('\n')}`,
      );
      return;
    }
    case 'reset': {
      const outcome = await context.settingsService.reset(guildId, actor, now);
      const changes = outcome.ok ? outcome.changes : [];
      await reply(
        changes.length === 0
          ? 'Every setting was already at its default.'
          : `Restored the defaults:\n${changes.map(describeChange).join('\n')}`,
      );
      return;
    }
    case 'usage': {
      await reply('', [await usageEmbed(context, guildId, now)]);
      return;
    }
    default:
      await reply('That subcommand is not known. Try `/music-settings show`.');
  }
}

/** The options that were given, as raw values: validation happens after, on all of them at once. */
function readChange(interaction: ChatInputCommandInteraction): SettingsChange {
  const change: SettingsChange = {};
  for (const [key, spec] of Object.entries(NUMERIC_SETTINGS) as [
    NumericSettingKey,
    (typeof NUMERIC_SETTINGS)[NumericSettingKey],
  ][]) {
    const value = interaction.options.get(spec.option)?.value;
    if (value !== undefined) change[key] = typeof value === 'number' ? value : Number.NaN;
  }
  const role = interaction.options.get(EXEMPT_ROLE_OPTION)?.value;
  if (role !== undefined) change.exemptRoleId = String(role);
  if (interaction.options.get(CLEAR_EXEMPT_ROLE_OPTION)?.value === true) change.exemptRoleId = null;
  return change;
}

function describeChange(change: SettingsChangeRecord): string {
  const where = change.source === 'web' ? ' (on the web)' : '';
  return `${relativeTime(change.changedAt)} <@${change.userId}>${where} **${optionName(change.setting)}**: ${change.oldValue ?? '?'} → ${change.newValue ?? '?'}`;
}

async function usageEmbed(context: CommandContext, guildId: string, now: number): Promise<APIEmbed> {
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
  const cap = (used: number, limit: number | null) =>
    limit === null
      ? used.toLocaleString('en-US')
      : `${used.toLocaleString('en-US')} of ${limit.toLocaleString('en-US')}`;
  const lines = [
    `**Today**: ${cap(tracksToday, settings.guildDaily)} tracks, ${creditsToday.toLocaleString('en-US')} credits; resets ${relativeTime(nextUtcMidnight(now))}`,
    `**This month**: ${tracksMonth.toLocaleString('en-US')} tracks, ${cap(creditsMonth, settings.monthlyCredits)} credits; resets ${relativeTime(nextUtcMonth(now))}`,
  ];
  if (top.length > 0) {
    lines.push('', '**Members today**');
    for (const member of top) {
      const left =
        settings.userDaily === null
          ? 'no daily cap'
          : `${Math.max(0, settings.userDaily - member.tracks)} left`;
      lines.push(`<@${member.userId}>: ${member.tracks} (${left})`);
    }
  }
  return { title: 'Tracksmith usage', description: lines.join('\n') };
}

export const musicSettings: SlashCommand = { data, execute };
