import type { APIEmbed } from 'discord.js';
import {
  DEFAULT_SETTINGS,
  describeSetting,
  SETTING_ORDER,
  settingOption,
  type GuildSettings,
  type SettingsChangeRecord,
} from '../domain/settings.js';
import { nextUtcMidnight, nextUtcMonth, relativeTime } from '../limits/time.js';

/** One audit line: when, who, from where, and the value before and after. */
export function describeChange(change: SettingsChangeRecord): string {
  const where = change.source === 'web' ? ' (on the web)' : '';
  return `${relativeTime(change.changedAt)} <@${change.userId}>${where} **${settingOption(change.setting)}**: ${change.oldValue ?? '?'} → ${change.newValue ?? '?'}`;
}

/** `/music-settings show`: every setting beside its default, then the latest changes if any. */
export function renderSettings(view: {
  settings: GuildSettings;
  blockedWords: number;
  changes: readonly SettingsChangeRecord[];
}): APIEmbed[] {
  const lines = SETTING_ORDER.map(
    (key) =>
      `**${settingOption(key)}**: ${describeSetting(key, view.settings[key])} (default ${describeSetting(key, DEFAULT_SETTINGS[key])})`,
  );
  lines.push(`**blocked-words**: ${view.blockedWords}`);
  const embeds: APIEmbed[] = [{ title: 'Tracksmith settings', description: lines.join('\n') }];
  if (view.changes.length > 0)
    embeds.push({ title: 'Recent changes', description: view.changes.map(describeChange).join('\n') });
  return embeds;
}

/** What `/music-settings usage` shows: the server's use against its caps. */
export interface UsageView {
  now: number;
  settings: Pick<GuildSettings, 'guildDaily' | 'monthlyCredits' | 'userDaily'>;
  tracksToday: number;
  tracksMonth: number;
  creditsToday: number;
  creditsMonth: number;
  /** Today's busiest members, most tracks first. */
  top: readonly { userId: string; tracks: number }[];
}

export function renderUsage(view: UsageView): APIEmbed {
  const { settings, now } = view;
  const cap = (used: number, limit: number | null) =>
    limit === null
      ? used.toLocaleString('en-US')
      : `${used.toLocaleString('en-US')} of ${limit.toLocaleString('en-US')}`;
  const lines = [
    `**Today**: ${cap(view.tracksToday, settings.guildDaily)} tracks, ${view.creditsToday.toLocaleString('en-US')} credits; resets ${relativeTime(nextUtcMidnight(now))}`,
    `**This month**: ${view.tracksMonth.toLocaleString('en-US')} tracks, ${cap(view.creditsMonth, settings.monthlyCredits)} credits; resets ${relativeTime(nextUtcMonth(now))}`,
  ];
  if (view.top.length > 0) {
    lines.push('', '**Members today**');
    for (const member of view.top) {
      const left =
        settings.userDaily === null
          ? 'no daily cap'
          : `${Math.max(0, settings.userDaily - member.tracks)} left`;
      lines.push(`<@${member.userId}>: ${member.tracks} (${left})`);
    }
  }
  return { title: 'Tracksmith usage', description: lines.join('\n') };
}

/** `/music-settings blocked-words list`. */
export function renderBlockedWords(words: readonly string[]): string {
  return words.length === 0
    ? 'No words are blocked.'
    : `Blocked words (${words.length}): ${words.map((w) => `\`${w}\``).join(', ')}`;
}
