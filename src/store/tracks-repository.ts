import { lockGuild, type Db } from './db.js';
import type { TrackRecord } from '../domain/track.js';
import { COUNTED, trackById, trackFromRow, type Aggregate } from './usage-repository.js';

/** A delivered track with just enough of its parent to show the lineage. */
export interface TrackListing {
  track: TrackRecord;
  parent: { id: string; trackNumber: number | null; userId: string } | undefined;
}

/**
 * Tracks as members browse them: the usage rows that were delivered, numbered per server, with
 * their parents and children. Deleting a track's message keeps its row.
 */
export interface TracksRepository {
  get(id: string): Promise<TrackRecord | undefined>;
  /** Gives the request the next number in its server, or returns the number it already has. */
  assignNumber(id: string): Promise<number>;
  byNumber(guildId: string, trackNumber: number): Promise<TrackListing | undefined>;
  /** Newest first. */
  recent(guildId: string, offset: number, limit: number): Promise<{ tracks: TrackListing[]; total: number }>;
  /** Numbered tracks that regenerate or remix this one, oldest first. */
  children(id: string): Promise<TrackRecord[]>;
  markDeleted(id: string, byUserId: string, at: number): Promise<void>;
  /** The styles this server chose most since `since`, most used first. */
  topStyles(guildId: string, since: number, limit: number): Promise<string[]>;
}

export function createTracksRepository(db: Db): TracksRepository {
  const listings = () =>
    db
      .selectFrom('usage as t')
      .leftJoin('usage as p', 'p.id', 't.parent_id')
      .selectAll('t')
      .select(['p.id as parent_key', 'p.track_number as parent_number', 'p.user_id as parent_user_id']);
  type Joined = Awaited<ReturnType<ReturnType<typeof listings>['execute']>>[number];
  const toListing = (row: Joined): TrackListing => {
    const { parent_key, parent_number, parent_user_id, ...track } = row;
    return {
      track: trackFromRow(track),
      parent:
        parent_key === null || parent_user_id === null
          ? undefined
          : { id: parent_key, trackNumber: parent_number, userId: parent_user_id },
    };
  };

  return {
    get: (id) => trackById(db, id),

    // One transaction: the unique (guild_id, track_number) index backs it up across processes.
    assignNumber: (id) =>
      db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('usage')
          .select(['guild_id', 'track_number'])
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        if (row.track_number !== null) return row.track_number;
        await lockGuild(trx, row.guild_id);
        const last = await trx
          .selectFrom('usage')
          .where('guild_id', '=', row.guild_id)
          .select((eb) => eb.fn.max<Aggregate | null>('track_number').as('n'))
          .executeTakeFirst();
        const next = Number(last?.n ?? 0) + 1;
        await trx.updateTable('usage').set({ track_number: next }).where('id', '=', id).execute();
        return next;
      }),

    async byNumber(guildId, trackNumber) {
      const row = await listings()
        .where('t.guild_id', '=', guildId)
        .where('t.track_number', '=', trackNumber)
        .executeTakeFirst();
      return row === undefined ? undefined : toListing(row);
    },

    async recent(guildId, offset, limit) {
      const rows = await listings()
        .where('t.guild_id', '=', guildId)
        .where('t.status', '=', 'completed')
        .where('t.track_number', 'is not', null)
        .orderBy('t.track_number', 'desc')
        .limit(limit)
        .offset(offset)
        .execute();
      const count = await db
        .selectFrom('usage')
        .where('guild_id', '=', guildId)
        .where('status', '=', 'completed')
        .where('track_number', 'is not', null)
        .select((eb) => eb.fn.countAll<Aggregate>().as('n'))
        .executeTakeFirst();
      return { tracks: rows.map(toListing), total: Number(count?.n ?? 0) };
    },

    async children(id) {
      const rows = await db
        .selectFrom('usage')
        .selectAll()
        .where('parent_id', '=', id)
        .where('status', '=', 'completed')
        .where('track_number', 'is not', null)
        .orderBy('track_number')
        .execute();
      return rows.map(trackFromRow);
    },

    async markDeleted(id, byUserId, at) {
      await db
        .updateTable('usage')
        .set({ deleted_at: at, deleted_by: byUserId })
        .where('id', '=', id)
        .execute();
    },

    async topStyles(guildId, since, limit) {
      const rows = await db
        .selectFrom('usage')
        .where('guild_id', '=', guildId)
        .where('requested_at', '>=', since)
        .where('style', 'is not', null)
        .where('status', 'in', COUNTED)
        .select((eb) => ['style', eb.fn.countAll<Aggregate>().as('uses')])
        .groupBy('style')
        .orderBy('uses', 'desc')
        .orderBy('style')
        .limit(limit)
        .execute();
      return rows.flatMap((r) => (r.style === null ? [] : [r.style]));
    },
  };
}
