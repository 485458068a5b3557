import { createHash } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { TrackMedia, TrackRecord } from '../domain/track.js';
import type { Db } from './db.js';
import type { TrackMediaTable } from './schema.js';
import { COUNTED, trackFromRow, type Aggregate, type UsageRow } from './usage-repository.js';

type TrackMediaRow = Selectable<TrackMediaTable>;

const mediaFromRow = (row: TrackMediaRow): TrackMedia => ({
  requestId: row.request_id,
  guildId: row.guild_id,
  channelId: row.channel_id,
  messageId: row.message_id,
  audioUrl: row.audio_url,
  audioName: row.audio_name,
  audioBytes: row.audio_bytes,
  peaks: row.peaks,
  freshUrl: row.fresh_url,
  freshUntil: row.fresh_until,
});

/** A gallery entry: the track, its parent's number for the lineage, and where its file is. */
export interface GalleryTrack {
  track: TrackRecord;
  parent: { trackNumber: number | null; userId: string } | undefined;
  media: TrackMedia | undefined;
}

export interface WebSession {
  userId: string;
  userName: string;
  guildIds: string[];
  expiresAt: number;
}

export interface DailyUsage {
  /** UTC day start, ms. */
  day: number;
  tracks: number;
  credits: number;
}

/** Sessions are looked up by a hash of the cookie's value: the table alone lets nobody sign in. */
const hashSessionId = (id: string) => createHash('sha256').update(id).digest('base64url');

/** What the web side reads and writes: media of delivered tracks, sessions, and the gallery's queries. */
export interface WebRepository {
  /** Where a posted track is; its waveform's levels come later (`rememberPeaks`) and stay on a re-post. */
  rememberMedia(
    requestId: string,
    guildId: string,
    media: Omit<TrackMedia, 'requestId' | 'guildId' | 'freshUrl' | 'freshUntil' | 'peaks'>,
  ): Promise<void>;
  media(requestId: string): Promise<TrackMedia | undefined>;
  /** Keeps a refreshed link so that other requests (and other hosts) reuse it while it lasts. */
  rememberFreshUrl(requestId: string, url: string, until: number): Promise<void>;
  /** Adds the waveform's levels (encoded) to a track whose media is recorded. */
  rememberPeaks(requestId: string, peaks: string): Promise<void>;

  gallery(
    guildId: string,
    filter: { userId?: string | undefined },
    offset: number,
    limit: number,
  ): Promise<{ tracks: GalleryTrack[]; total: number }>;
  /** Members with delivered tracks, most tracks first. */
  requesters(guildId: string, limit: number): Promise<{ userId: string; tracks: number }[]>;
  /** Every delivered or pending track of the family: ancestors and descendants of `id`, and itself. */
  family(guildId: string, id: string): Promise<TrackRecord[]>;
  dailyUsage(guildId: string, since: number): Promise<DailyUsage[]>;
  topMembers(
    guildId: string,
    since: number,
    limit: number,
  ): Promise<{ userId: string; tracks: number; credits: number }[]>;

  createSession(id: string, session: WebSession, now: number): Promise<void>;
  session(id: string, now: number): Promise<WebSession | undefined>;
  endSession(id: string): Promise<void>;
}

export function createWebRepository(db: Db): WebRepository {
  const delivered = (guildId: string) =>
    db
      .selectFrom('usage as t')
      .where('t.guild_id', '=', guildId)
      .where('t.status', '=', 'completed')
      .where('t.track_number', 'is not', null);

  return {
    async rememberMedia(requestId, guildId, media) {
      const values = {
        channel_id: media.channelId,
        message_id: media.messageId,
        audio_url: media.audioUrl,
        audio_name: media.audioName,
        audio_bytes: media.audioBytes,
        fresh_url: null,
        fresh_until: null,
      };
      await db
        .insertInto('track_media')
        .values({ request_id: requestId, guild_id: guildId, ...values })
        .onConflict((oc) => oc.column('request_id').doUpdateSet(values))
        .execute();
    },

    async media(requestId) {
      const row = await db
        .selectFrom('track_media')
        .selectAll()
        .where('request_id', '=', requestId)
        .executeTakeFirst();
      return row && mediaFromRow(row);
    },

    async rememberFreshUrl(requestId, url, until) {
      await db
        .updateTable('track_media')
        .set({ fresh_url: url, fresh_until: until })
        .where('request_id', '=', requestId)
        .execute();
    },

    async rememberPeaks(requestId, peaks) {
      await db.updateTable('track_media').set({ peaks }).where('request_id', '=', requestId).execute();
    },

    async gallery(guildId, filter, offset, limit) {
      let query = delivered(guildId);
      if (filter.userId !== undefined) query = query.where('t.user_id', '=', filter.userId);
      const rows = await query
        .leftJoin('usage as p', 'p.id', 't.parent_id')
        .leftJoin('track_media as m', 'm.request_id', 't.id')
        .selectAll('t')
        .select([
          'p.track_number as parent_number',
          'p.user_id as parent_user_id',
          'm.request_id as m_request_id',
          'm.guild_id as m_guild_id',
          'm.channel_id as m_channel_id',
          'm.message_id as m_message_id',
          'm.audio_url as m_audio_url',
          'm.audio_name as m_audio_name',
          'm.audio_bytes as m_audio_bytes',
          'm.peaks as m_peaks',
          'm.fresh_url as m_fresh_url',
          'm.fresh_until as m_fresh_until',
        ])
        .orderBy('t.track_number', 'desc')
        .limit(limit)
        .offset(offset)
        .execute();
      const count = await query.select((eb) => eb.fn.countAll<Aggregate>().as('n')).executeTakeFirst();
      const tracks = rows.map((row): GalleryTrack => {
        const {
          parent_number,
          parent_user_id,
          m_request_id,
          m_guild_id,
          m_channel_id,
          m_message_id,
          m_audio_url,
          m_audio_name,
          m_audio_bytes,
          m_peaks,
          m_fresh_url,
          m_fresh_until,
          ...track
        } = row;
        return {
          track: trackFromRow(track),
          parent:
            parent_user_id === null ? undefined : { trackNumber: parent_number, userId: parent_user_id },
          media:
            m_request_id === null || m_guild_id === null || m_channel_id === null || m_message_id === null
              ? undefined
              : mediaFromRow({
                  request_id: m_request_id,
                  guild_id: m_guild_id,
                  channel_id: m_channel_id,
                  message_id: m_message_id,
                  audio_url: m_audio_url,
                  audio_name: m_audio_name,
                  audio_bytes: m_audio_bytes,
                  peaks: m_peaks,
                  fresh_url: m_fresh_url,
                  fresh_until: m_fresh_until,
                }),
        };
      });
      return { tracks, total: Number(count?.n ?? 0) };
    },

    async requesters(guildId, limit) {
      const rows = await delivered(guildId)
        .select((eb) => ['t.user_id', eb.fn.countAll<Aggregate>().as('tracks')])
        .groupBy('t.user_id')
        .orderBy('tracks', 'desc')
        .orderBy('t.user_id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ userId: r.user_id, tracks: Number(r.tracks) }));
    },

    async family(guildId, id) {
      // Walked level by level: families are a handful of tracks, and this stays portable between
      // SQLite and PostgreSQL without recursive SQL.
      const byId = new Map<string, UsageRow>();
      const fetch = (ids: string[]) =>
        ids.length === 0
          ? Promise.resolve([])
          : db
              .selectFrom('usage')
              .selectAll()
              .where('guild_id', '=', guildId)
              .where('id', 'in', ids)
              .execute();
      let root = (await fetch([id]))[0];
      if (root === undefined) return [];
      byId.set(root.id, root);
      for (let depth = 0; root.parent_id !== null && depth < 100; depth++) {
        const parent: UsageRow | undefined = (await fetch([root.parent_id]))[0];
        if (parent === undefined || byId.has(parent.id)) break;
        byId.set(parent.id, parent);
        root = parent;
      }
      let level = [root.id];
      const descended = new Set(level);
      for (let depth = 0; level.length > 0 && depth < 100; depth++) {
        const children = await db
          .selectFrom('usage')
          .selectAll()
          .where('guild_id', '=', guildId)
          .where('parent_id', 'in', level)
          .where('status', '=', 'completed')
          .where('track_number', 'is not', null)
          .execute();
        level = [];
        for (const child of children) {
          if (descended.has(child.id)) continue;
          descended.add(child.id);
          byId.set(child.id, child);
          level.push(child.id);
        }
      }
      return [...byId.values()].map(trackFromRow);
    },

    async dailyUsage(guildId, since) {
      const rows = await db
        .selectFrom('usage')
        .select(['requested_at', 'credits_used'])
        .where('guild_id', '=', guildId)
        .where('status', 'in', COUNTED)
        .where('requested_at', '>=', since)
        .execute();
      const days = new Map<number, DailyUsage>();
      for (const row of rows) {
        const day = Math.floor(row.requested_at / 86_400_000) * 86_400_000;
        const entry = days.get(day) ?? { day, tracks: 0, credits: 0 };
        entry.tracks += 1;
        entry.credits += row.credits_used ?? 0;
        days.set(day, entry);
      }
      return [...days.values()].sort((a, b) => a.day - b.day);
    },

    async topMembers(guildId, since, limit) {
      const rows = await db
        .selectFrom('usage')
        .where('guild_id', '=', guildId)
        .where('status', 'in', COUNTED)
        .where('requested_at', '>=', since)
        .select((eb) => [
          'user_id',
          eb.fn.countAll<Aggregate>().as('tracks'),
          eb.fn.sum<Aggregate | null>('credits_used').as('credits'),
        ])
        .groupBy('user_id')
        .orderBy('tracks', 'desc')
        .orderBy('user_id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        userId: r.user_id,
        tracks: Number(r.tracks),
        credits: Number(r.credits ?? 0),
      }));
    },

    async createSession(id, session, now) {
      await db
        .insertInto('web_sessions')
        .values({
          id_hash: hashSessionId(id),
          user_id: session.userId,
          user_name: session.userName,
          guild_ids: session.guildIds.join(','),
          created_at: now,
          expires_at: session.expiresAt,
        })
        .execute();
    },

    async session(id, now) {
      const row = await db
        .selectFrom('web_sessions')
        .selectAll()
        .where('id_hash', '=', hashSessionId(id))
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return (
        row && {
          userId: row.user_id,
          userName: row.user_name,
          guildIds: row.guild_ids === '' ? [] : row.guild_ids.split(','),
          expiresAt: row.expires_at,
        }
      );
    },

    async endSession(id) {
      await db.deleteFrom('web_sessions').where('id_hash', '=', hashSessionId(id)).execute();
    },
  };
}
