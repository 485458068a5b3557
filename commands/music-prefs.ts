import {
  ApplicationCommandOptionType,
  type ChatInputCommandInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import {
  type CommandContext,
  type SlashCommand,
  type Subcommand,
  serverSlashCommand,
} from '../src/discord/command.js';
import { optionValue, runSubcommand } from '../src/discord/options.js';
import { vocalsLabel } from '../src/discord/render.js';
import { replyPrivately } from '../src/discord/reply.js';
import { LENGTH_MAX_SECONDS, LENGTH_MIN_SECONDS } from '../src/generation/request.js';
import { matchBlockedWord } from '../src/limits/policy.js';
import { parseVocals, SUFFIX_MAX_CHARS } from '../src/songwriting/prompt.js';
import type { MemberPrefs } from '../src/store/songwriting-repository.js';

const data = {
  name: 'music-prefs',
  description: 'Your own defaults for new tracks in this server',
  ...serverSlashCommand,
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'show',
      description: 'Your defaults and how they apply here',
    },
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'set',
      description: 'Set one or more defaults',
      options: [
        {
          type: ApplicationCommandOptionType.Integer,
          name: 'length',
          description: `Default length in seconds (${LENGTH_MIN_SECONDS}-${LENGTH_MAX_SECONDS}; the server's maximum still applies)`,
          min_value: LENGTH_MIN_SECONDS,
          max_value: LENGTH_MAX_SECONDS,
        },
        {
          type: ApplicationCommandOptionType.String,
          name: 'vocals',
          description: 'Vocals or instrumental by default',
          choices: [
            { name: 'vocals', value: 'vocals' },
            { name: 'instrumental', value: 'instrumental' },
          ],
        },
        {
          type: ApplicationCommandOptionType.String,
          name: 'style-suffix',
          description: 'Words added to every prompt, e.g. "warm analog mix"',
          max_length: SUFFIX_MAX_CHARS,
        },
      ],
    },
    { type: ApplicationCommandOptionType.Subcommand, name: 'reset', description: 'Forget your defaults' },
  ],
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

const show: Subcommand = async (interaction, context) => {
  const [prefs, settings] = await Promise.all([
    context.songwriting.prefs(interaction.guildId, interaction.user.id),
    context.settings.get(interaction.guildId),
  ]);
  await replyPrivately(interaction, describePrefs(prefs, settings.maxLengthSeconds));
};

const set: Subcommand = async (interaction, context) => {
  const change: Partial<MemberPrefs> = {};
  const problems: string[] = [];
  const length = optionValue(interaction, 'length');
  if (length !== undefined) {
    if (
      typeof length === 'number' &&
      Number.isInteger(length) &&
      length >= LENGTH_MIN_SECONDS &&
      length <= LENGTH_MAX_SECONDS
    )
      change.lengthSeconds = length;
    else
      problems.push(
        `length must be a whole number of seconds from ${LENGTH_MIN_SECONDS} to ${LENGTH_MAX_SECONDS}.`,
      );
  }
  const vocalsRaw = optionValue(interaction, 'vocals');
  if (vocalsRaw !== undefined) {
    const vocals = parseVocals(typeof vocalsRaw === 'string' ? vocalsRaw : Symbol.for('not text'));
    if (vocals.ok && vocals.value !== undefined) change.vocals = vocals.value;
    else problems.push('vocals must be "vocals" or "instrumental".');
  }
  const suffixRaw = optionValue(interaction, 'style-suffix');
  if (suffixRaw !== undefined) {
    const suffix = typeof suffixRaw === 'string' ? suffixRaw.replace(/\s+/g, ' ').trim() : '';
    if (suffix === '' || suffix.length > SUFFIX_MAX_CHARS) {
      problems.push(`style-suffix must be 1 to ${SUFFIX_MAX_CHARS} characters.`);
    } else {
      const blocked = matchBlockedWord(suffix, await context.settings.blockedWords(interaction.guildId));
      if (blocked === undefined) change.styleSuffix = suffix;
      else
        problems.push(
          `This server does not allow the word "${blocked}" in prompts, so the suffix cannot hold it.`,
        );
    }
  }
  if (problems.length > 0) {
    await replyPrivately(interaction, `Nothing was changed:\n${problems.map((p) => `- ${p}`).join('\n')}`);
    return;
  }
  if (Object.keys(change).length === 0) {
    await replyPrivately(
      interaction,
      'Give at least one default, for example `/music-prefs set vocals: instrumental`.',
    );
    return;
  }
  const [prefs, settings] = await Promise.all([
    context.songwriting.setPrefs(interaction.guildId, interaction.user.id, change, context.now()),
    context.settings.get(interaction.guildId),
  ]);
  await replyPrivately(interaction, `Saved.\n${describePrefs(prefs, settings.maxLengthSeconds)}`);
};

const reset: Subcommand = async (interaction, context) => {
  const had = await context.songwriting.resetPrefs(interaction.guildId, interaction.user.id);
  await replyPrivately(
    interaction,
    had ? 'Your defaults are forgotten; the server’s apply again.' : 'You had no defaults set.',
  );
};

function describePrefs(prefs: MemberPrefs, maxLengthSeconds: number): string {
  if (prefs.lengthSeconds === null && prefs.vocals === null && prefs.styleSuffix === null) {
    return 'You have no defaults here. Set them with `/music-prefs set`.';
  }
  const length =
    prefs.lengthSeconds === null
      ? 'not set (the server default)'
      : prefs.lengthSeconds > maxLengthSeconds
        ? `${prefs.lengthSeconds} s, cut to ${maxLengthSeconds} s: this server's longest`
        : `${prefs.lengthSeconds} s`;
  return [
    'Your defaults (used when a request leaves them out, and shown on the track):',
    `**Length**: ${length}`,
    `**Vocals**: ${prefs.vocals === null ? 'not set' : vocalsLabel(prefs.vocals)}`,
    `**Style suffix**: ${prefs.styleSuffix === null ? 'not set' : `“${prefs.styleSuffix}”`}`,
  ].join('\n');
}

const subcommands: Record<string, Subcommand> = { show, set, reset };

async function execute(interaction: ChatInputCommandInteraction, context: CommandContext): Promise<void> {
  if (!interaction.inGuild()) {
    await replyPrivately(interaction, 'Use /music-prefs in a server: defaults are kept per server.');
    return;
  }
  await runSubcommand(
    interaction,
    subcommands,
    context,
    'That subcommand is not known. Try `/music-prefs show`.',
  );
}

export const musicPrefs: SlashCommand = { data, execute };
