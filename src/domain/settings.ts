/**
 * Per-server settings: their names as moderators type them, their bounds, and their defaults.
 * A stored null means "default"; for the caps, 0 means "no cap".
 *
 * This file sits below both the store (which reads and writes them) and the limits (which obey
 * them), and imports neither, so the two never import each other.
 */
export interface GuildSettings {
  maxLengthSeconds: number;
  defaultLengthSeconds: number;
  /** Tracks per member per UTC day; null = no cap. */
  userDaily: number | null;
  /** Tracks per server per UTC day; null = no cap. */
  guildDaily: number | null;
  cooldownSeconds: number;
  /** Generations of this server in flight at once; more wait in line. */
  concurrent: number;
  /** Provider credits per calendar month (UTC); null = no cap. */
  monthlyCredits: number | null;
  exemptRoleId: string | null;
  /** Lyrics drafts per member per UTC day; null = no cap. */
  lyricsDaily: number | null;
}

export type SettingKey = keyof GuildSettings;

export const DEFAULT_SETTINGS: Readonly<GuildSettings> = Object.freeze({
  maxLengthSeconds: 300,
  defaultLengthSeconds: 30,
  userDaily: 25,
  guildDaily: null,
  cooldownSeconds: 0,
  concurrent: 10,
  monthlyCredits: null,
  exemptRoleId: null,
  lyricsDaily: 20,
});

interface NumericSpec {
  option: string;
  label: string;
  min: number;
  max: number;
  unit: string;
  /** 0 switches the limit off (stored as 0, read as null). */
  zeroDisables: boolean;
}

/** Option names match the `/music-settings set` options exactly. */
export const NUMERIC_SETTINGS = {
  maxLengthSeconds: {
    option: 'max-length',
    label: 'Longest track',
    min: 10,
    max: 300,
    unit: 's',
    zeroDisables: false,
  },
  defaultLengthSeconds: {
    option: 'default-length',
    label: 'Default length',
    min: 10,
    max: 300,
    unit: 's',
    zeroDisables: false,
  },
  userDaily: {
    option: 'user-daily',
    label: 'Tracks per member per day',
    min: 0,
    max: 1000,
    unit: '',
    zeroDisables: true,
  },
  guildDaily: {
    option: 'guild-daily',
    label: 'Tracks per server per day',
    min: 0,
    max: 100_000,
    unit: '',
    zeroDisables: true,
  },
  cooldownSeconds: {
    option: 'cooldown',
    label: 'Cooldown between requests',
    min: 0,
    max: 86_400,
    unit: 's',
    zeroDisables: false,
  },
  concurrent: {
    option: 'concurrent',
    label: 'Generations at once',
    min: 1,
    max: 50,
    unit: '',
    zeroDisables: false,
  },
  monthlyCredits: {
    option: 'monthly-credits',
    label: 'Credits per month',
    min: 0,
    max: 100_000_000,
    unit: '',
    zeroDisables: true,
  },
  lyricsDaily: {
    option: 'lyrics-daily',
    label: 'Lyrics drafts per member per day',
    min: 0,
    max: 1000,
    unit: '',
    zeroDisables: true,
  },
} as const satisfies Record<Exclude<SettingKey, 'exemptRoleId'>, NumericSpec>;

export type NumericSettingKey = keyof typeof NUMERIC_SETTINGS;
export const EXEMPT_ROLE_OPTION = 'exempt-role';
export const CLEAR_EXEMPT_ROLE_OPTION = 'clear-exempt-role';

/** Every setting, in the order `/music-settings show` lists them. */
export const SETTING_ORDER: readonly SettingKey[] = [
  ...(Object.keys(NUMERIC_SETTINGS) as NumericSettingKey[]),
  'exemptRoleId',
];

/** A setting's name as moderators type it (the `/music-settings set` option, the form field). */
export function settingOption(key: SettingKey): string {
  return key === 'exemptRoleId' ? EXEMPT_ROLE_OPTION : NUMERIC_SETTINGS[key].option;
}

/** A change as moderators asked for it: numbers as typed (0 = off where allowed), a role ID or null to clear it. */
export type SettingsChange = Partial<Record<NumericSettingKey, number>> & { exemptRoleId?: string | null };

/** The stored form of one guild's settings: null = default. */
export type StoredSettings = { [K in SettingKey]: GuildSettings[K] | null | undefined };

export function resolveSettings(stored: Partial<StoredSettings> | undefined): GuildSettings {
  const pick = <K extends SettingKey>(key: K): GuildSettings[K] => {
    const value = stored?.[key];
    if (value === null || value === undefined) return DEFAULT_SETTINGS[key];
    const spec: NumericSpec | undefined =
      key === 'exemptRoleId' ? undefined : (NUMERIC_SETTINGS as Record<string, NumericSpec>)[key];
    return (spec?.zeroDisables && value === 0 ? null : value) as GuildSettings[K];
  };
  return {
    maxLengthSeconds: pick('maxLengthSeconds'),
    defaultLengthSeconds: pick('defaultLengthSeconds'),
    userDaily: pick('userDaily'),
    guildDaily: pick('guildDaily'),
    cooldownSeconds: pick('cooldownSeconds'),
    concurrent: pick('concurrent'),
    monthlyCredits: pick('monthlyCredits'),
    exemptRoleId: pick('exemptRoleId'),
    lyricsDaily: pick('lyricsDaily'),
  };
}

/**
 * The numeric part of a change, from raw values looked up by option name (a slash command's
 * options, the web form's fields): only the ones that were sent. `toNumber` reads what arrived as
 * that surface sends it, giving NaN for anything else, so `validateSettingsChange` words a bad
 * value the same way wherever it came from.
 */
export function numericChange(
  raw: (option: string) => unknown,
  toNumber: (value: unknown) => number,
): SettingsChange {
  const change: SettingsChange = {};
  for (const [key, spec] of Object.entries(NUMERIC_SETTINGS) as [NumericSettingKey, NumericSpec][]) {
    const value = raw(spec.option);
    if (value !== undefined) change[key] = toNumber(value);
  }
  return change;
}

/** Every problem with a change, judged on the settings it would produce. */
export function validateSettingsChange(current: GuildSettings, change: SettingsChange): string[] {
  const problems: string[] = [];
  for (const [key, spec] of Object.entries(NUMERIC_SETTINGS) as [NumericSettingKey, NumericSpec][]) {
    const value = change[key];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < spec.min || value > spec.max) {
      const range = `${spec.min.toLocaleString('en-US')} to ${spec.max.toLocaleString('en-US')}${spec.unit ? ` ${spec.unit === 's' ? 'seconds' : spec.unit}` : ''}`;
      problems.push(
        `${spec.option} must be a whole number from ${range}${spec.zeroDisables ? ' (0 = no cap)' : ''}; got ${String(value)}.`,
      );
    }
  }
  if (typeof change.exemptRoleId === 'string' && !/^\d{17,20}$/.test(change.exemptRoleId)) {
    problems.push('exempt-role must be a role of this server.');
  }
  if (problems.length > 0) return problems;
  const next = { ...current, ...change };
  if (next.defaultLengthSeconds > next.maxLengthSeconds) {
    problems.push(
      `default-length (${next.defaultLengthSeconds} s) cannot be longer than max-length (${next.maxLengthSeconds} s).`,
    );
  }
  return problems;
}

/** How a value reads in `show` and in the audit trail. */
export function describeSetting(key: SettingKey, value: GuildSettings[SettingKey]): string {
  if (key === 'exemptRoleId') return value === null ? 'none' : `<@&${String(value)}>`;
  if (value === null) return 'no cap';
  const spec = NUMERIC_SETTINGS[key];
  return spec.unit === 's' ? `${String(value)} s` : (value as number).toLocaleString('en-US');
}

/** Where a settings change was made: the slash command or the web dashboard. */
export type SettingsSource = 'discord' | 'web';

/** One value that moved, as the audit trail keeps it (values as `describeSetting` words them). */
export interface SettingsChangeRecord {
  userId: string;
  source: SettingsSource;
  setting: SettingKey;
  oldValue: string | null;
  newValue: string | null;
  changedAt: number;
}
