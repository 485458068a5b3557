import type { Db } from './db.js';
import type { Vocals } from '../domain/track.js';
import { prepareQuery } from './prepared.js';
import type { LyricsDraftStatus } from './schema.js';

/** A member's personal defaults in one server; null = not set. */
export interface MemberPrefs {
  lengthSeconds: number | null;
  vocals: Vocals | null;
  styleSuffix: string | null;
}

export const NO_PREFS: Readonly<MemberPrefs> = Object.freeze({
  lengthSeconds: null,
  vocals: null,
  styleSuffix: null,
});

export interface LyricsDraft {
  id: string;
  guildId: string;
  channelId: string;
  userId: string;
  idea: string;
  style: string | null;
  lyrics: string | null;
  status: LyricsDraftStatus;
  creditsUsed: number | null;
  requestedAt: number;
}

export interface SongwritingRepository {
  prefs(guildId: string, userId: string): Promise<MemberPrefs>;
  /** Sets the given defaults, keeping the others. */
  setPrefs(guildId: string, userId: string, change: Partial<MemberPrefs>, now: number): Promise<MemberPrefs>;
  /** True when there was something to forget. */
  resetPrefs(guildId: string, userId: string): Promise<boolean>;
  draft(id: string): Promise<LyricsDraft | undefined>;
  /** Records how a draft ended; its credits count toward the server's month from then on. */
  finishDraft(
    id: string,
    outcome: { status: Exclude<LyricsDraftStatus, 'pending'>; lyrics: string | null; creditsUsed: number },
  ): Promise<void>;
}

/** Drafts that used the member's allowance: all but the ones that failed. */
export const COUNTED_DRAFTS: LyricsDraftStatus[] = ['pending', 'drafted', 'blocked'];

// Compiled once (see prepared.ts): every /music reads it before the member's acknowledgement.
const prefsQuery = prepareQuery((db: Db, v: { guildId: string; userId: string }) =>
  db.selectFrom('member_prefs').selectAll().where('guild_id', '=', v.guildId).where('user_id', '=', v.userId),
);

export function createSongwritingRepository(db: Db): SongwritingRepository {
  return {
    async prefs(guildId, userId) {
      const [row] = (await prefsQuery.execute(db, { guildId, userId })).rows;
      return row
        ? { lengthSeconds: row.length_seconds, vocals: row.vocals, styleSuffix: row.style_suffix }
        : { ...NO_PREFS };
    },

    async setPrefs(guildId, userId, change, now) {
      const next = { ...(await this.prefs(guildId, userId)), ...change };
      const values = {
        length_seconds: next.lengthSeconds,
        vocals: next.vocals,
        style_suffix: next.styleSuffix,
        updated_at: now,
      };
      await db
        .insertInto('member_prefs')
        .values({ guild_id: guildId, user_id: userId, ...values })
        .onConflict((oc) => oc.columns(['guild_id', 'user_id']).doUpdateSet(values))
        .execute();
      return next;
    },

    async resetPrefs(guildId, userId) {
      const result = await db
        .deleteFrom('member_prefs')
        .where('guild_id', '=', guildId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async draft(id) {
      const row = await db.selectFrom('lyrics_drafts').selectAll().where('id', '=', id).executeTakeFirst();
      return (
        row && {
          id: row.id,
          guildId: row.guild_id,
          channelId: row.channel_id,
          userId: row.user_id,
          idea: row.idea,
          style: row.style,
          lyrics: row.lyrics,
          status: row.status,
          creditsUsed: row.credits_used,
          requestedAt: row.requested_at,
        }
      );
    },

    async finishDraft(id, outcome) {
      await db
        .updateTable('lyrics_drafts')
        .set({ status: outcome.status, lyrics: outcome.lyrics, credits_used: outcome.creditsUsed })
        .where('id', '=', id)
        .execute();
    },
  };
}
