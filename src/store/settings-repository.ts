import type { Db } from './db.js';
import { prepareQuery } from './prepared.js';
import type { GuildSettingsTable } from './schema.js';
import {
  describeSetting,
  resolveSettings,
  type GuildSettings,
  type SettingKey,
  type SettingsChange,
  type SettingsChangeRecord,
  type SettingsSource,
  type StoredSettings,
} from '../domain/settings.js';

const columns = {
  maxLengthSeconds: 'max_length_seconds',
  defaultLengthSeconds: 'default_length_seconds',
  userDaily: 'user_daily',
  guildDaily: 'guild_daily',
  cooldownSeconds: 'cooldown_seconds',
  concurrent: 'concurrent',
  monthlyCredits: 'monthly_credits',
  exemptRoleId: 'exempt_role_id',
  lyricsDaily: 'lyrics_daily',
} as const satisfies Record<SettingKey, keyof GuildSettingsTable>;

const settingKeys = Object.keys(columns) as SettingKey[];

/** What an update changed, and the settings it left in force. */
export interface SettingsUpdate {
  changes: SettingsChangeRecord[];
  settings: GuildSettings;
}

export interface SettingsRepository {
  get(guildId: string): Promise<GuildSettings>;
  /** Applies a change and records one audit row per value that moved, in one transaction. */
  update(
    guildId: string,
    change: SettingsChange,
    byUserId: string,
    now: number,
    source?: SettingsSource,
  ): Promise<SettingsUpdate>;
  /** Back to every default, audited like any other change. */
  reset(guildId: string, byUserId: string, now: number, source?: SettingsSource): Promise<SettingsUpdate>;
  recentChanges(guildId: string, limit: number): Promise<SettingsChangeRecord[]>;
  blockedWords(guildId: string): Promise<string[]>;
  /** True when the word was not blocked before. */
  addBlockedWord(guildId: string, word: string, byUserId: string, now: number): Promise<boolean>;
  /** True when the word was blocked. */
  removeBlockedWord(guildId: string, word: string): Promise<boolean>;
}

function fromRow(row: GuildSettingsTable | undefined): Partial<StoredSettings> | undefined {
  if (!row) return undefined;
  return Object.fromEntries(settingKeys.map((key) => [key, row[columns[key]]]));
}

// Compiled once (see prepared.ts): every reservation transaction reads both for each server in it.
const settingsQuery = prepareQuery((db: Db, v: { guildId: string }) =>
  db.selectFrom('guild_settings').selectAll().where('guild_id', '=', v.guildId),
);
const blockedWordsQuery = prepareQuery((db: Db, v: { guildId: string }) =>
  db.selectFrom('blocked_words').select('word').where('guild_id', '=', v.guildId).orderBy('word'),
);

export function createSettingsRepository(db: Db): SettingsRepository {
  const readRow = async (executor: Db, guildId: string) =>
    (await settingsQuery.execute(executor, { guildId })).rows[0];

  const write = async (
    guildId: string,
    next: (current: Partial<StoredSettings>) => Partial<StoredSettings>,
    byUserId: string,
    now: number,
    source: SettingsSource,
  ) =>
    db.transaction().execute(async (trx) => {
      const current = fromRow(await readRow(trx, guildId));
      const before = resolveSettings(current);
      const updated = next({ ...current });
      const after = resolveSettings(updated);
      const row: GuildSettingsTable = {
        guild_id: guildId,
        max_length_seconds: updated.maxLengthSeconds ?? null,
        default_length_seconds: updated.defaultLengthSeconds ?? null,
        user_daily: updated.userDaily ?? null,
        guild_daily: updated.guildDaily ?? null,
        cooldown_seconds: updated.cooldownSeconds ?? null,
        concurrent: updated.concurrent ?? null,
        monthly_credits: updated.monthlyCredits ?? null,
        exempt_role_id: updated.exemptRoleId ?? null,
        lyrics_daily: updated.lyricsDaily ?? null,
        updated_at: now,
      };
      const { guild_id, ...changes } = row;
      await trx
        .insertInto('guild_settings')
        .values({ guild_id, ...changes })
        .onConflict((oc) => oc.column('guild_id').doUpdateSet(changes))
        .execute();

      const records: SettingsChangeRecord[] = settingKeys
        .filter((key) => before[key] !== after[key])
        .map((key) => ({
          userId: byUserId,
          source,
          setting: key,
          oldValue: describeSetting(key, before[key]),
          newValue: describeSetting(key, after[key]),
          changedAt: now,
        }));
      if (records.length > 0) {
        await trx
          .insertInto('settings_changes')
          .values(
            records.map((r) => ({
              guild_id: guildId,
              user_id: r.userId,
              setting: r.setting,
              old_value: r.oldValue,
              new_value: r.newValue,
              changed_at: r.changedAt,
              source: r.source,
            })),
          )
          .execute();
      }
      return { changes: records, settings: after };
    });

  return {
    async get(guildId) {
      return resolveSettings(fromRow(await readRow(db, guildId)));
    },

    update: (guildId, change, byUserId, now, source = 'discord') =>
      write(guildId, (current) => ({ ...current, ...change }), byUserId, now, source),

    reset: (guildId, byUserId, now, source = 'discord') =>
      write(guildId, () => Object.fromEntries(settingKeys.map((k) => [k, null])), byUserId, now, source),

    async recentChanges(guildId, limit) {
      const rows = await db
        .selectFrom('settings_changes')
        .selectAll()
        .where('guild_id', '=', guildId)
        .orderBy('changed_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        userId: r.user_id,
        source: r.source === 'web' ? 'web' : 'discord',
        setting: r.setting as SettingKey,
        oldValue: r.old_value,
        newValue: r.new_value,
        changedAt: r.changed_at,
      }));
    },

    async blockedWords(guildId) {
      const { rows } = await blockedWordsQuery.execute(db, { guildId });
      return rows.map((r) => r.word);
    },

    async addBlockedWord(guildId, word, byUserId, now) {
      const result = await db
        .insertInto('blocked_words')
        .values({ guild_id: guildId, word, added_by: byUserId, added_at: now })
        .onConflict((oc) => oc.columns(['guild_id', 'word']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
    },

    async removeBlockedWord(guildId, word) {
      const result = await db
        .deleteFrom('blocked_words')
        .where('guild_id', '=', guildId)
        .where('word', '=', word)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
