import { type ExpressionBuilder, type Insertable, type Selectable, type Updateable } from 'kysely';
import type { Db } from './db.js';
import type { TrackRecord, UsageStatus } from '../domain/track.js';
import type { Schema, UsageTable } from './schema.js';

/** Rows that count against limits: everything but requests that gave their slot back. */
export const COUNTED: readonly UsageStatus[] = ['queued', 'submitted', 'completed'];
export const IN_FLIGHT: readonly UsageStatus[] = ['queued', 'submitted'];

/**
 * The server's lyrics-draft credits since `since`, as a column `lyrics_credits` of a statement on
 * `usage`: drafts spend the same monthly credits as tracks, so every credit count adds them.
 */
export const lyricsCreditsSince = (eb: ExpressionBuilder<Schema, 'usage'>, guildId: string, since: number) =>
  eb
    .selectFrom('lyrics_drafts')
    .where('lyrics_drafts.guild_id', '=', guildId)
    .where('lyrics_drafts.requested_at', '>=', since)
    .select((inner) => inner.fn.sum<Aggregate | null>('lyrics_drafts.credits_used').as('n'))
    .as('lyrics_credits');

/** A ledger row as the database holds it: only the store's own files use this shape. */
export type UsageRow = Selectable<UsageTable>;
export type NewUsageRow = Insertable<UsageTable>;

/** Whether the request is still to be made (what `unfinished()` returns). */
export const isUnfinished = (track: Pick<TrackRecord, 'status'>): boolean => IN_FLIGHT.includes(track.status);

/**
 * The one place a ledger row becomes the domain's record. Written out rather than Kysely's
 * CamelCasePlugin: that would rename the columns in every query and in the schema (the
 * reservation's SQL included), while this keeps the queries in the database's own names and also
 * folds the four credit columns into one value.
 */
export function trackFromRow(row: UsageRow): TrackRecord {
  const credit =
    row.source_message_id === null ||
    row.source_channel_id === null ||
    row.source_author_id === null ||
    row.source_author_name === null
      ? null
      : {
          authorId: row.source_author_id,
          authorName: row.source_author_name,
          guildId: row.guild_id,
          channelId: row.source_channel_id,
          messageId: row.source_message_id,
        };
  return {
    id: row.id,
    guildId: row.guild_id,
    channelId: row.channel_id,
    userId: row.user_id,
    prompt: row.prompt,
    lengthSeconds: row.length_seconds,
    status: row.status,
    kind: row.kind,
    generationId: row.generation_id,
    creditsUsed: row.credits_used,
    requestedAt: row.requested_at,
    submittingAt: row.submitting_at,
    submittedAt: row.submitted_at,
    completedAt: row.completed_at,
    error: row.error,
    applicationId: row.application_id,
    interactionToken: row.interaction_token,
    uploadLimitBytes: row.upload_limit_bytes,
    replyMessageId: row.reply_message_id,
    delivery: row.delivery,
    parentId: row.parent_id,
    trackNumber: row.track_number,
    actualSeconds: row.actual_seconds,
    generationMs: row.generation_ms,
    deletedAt: row.deleted_at,
    deletedBy: row.deleted_by,
    style: row.style,
    lyrics: row.lyrics,
    vocals: row.vocals,
    prefsApplied: row.prefs_applied,
    credit,
  };
}

/** Drivers return aggregates as numbers, bigints or (PostgreSQL) strings: always read through Number(). */
export type Aggregate = number | bigint | string;

export interface UsageRepository {
  insert(row: NewUsageRow): Promise<void>;
  get(id: string): Promise<TrackRecord | undefined>;
  /** The mark before the provider's POST; the row stays queued. */
  markSubmitting(id: string, at: number): Promise<void>;
  markSubmitted(id: string, generationId: string, at: number): Promise<void>;
  markCompleted(id: string, outcome: CompletedTrack, at: number): Promise<void>;
  markFailed(id: string, error: string, creditsUsed: number | null, at: number): Promise<void>;
  markCancelled(id: string, byUserId: string, at: number): Promise<void>;
  setReplyMessage(id: string, messageId: string): Promise<void>;
  /** Length and generation time of the most recently completed tracks, newest first. */
  recentDurations(limit: number): Promise<{ lengthSeconds: number; generationMs: number }[]>;
  /** Requests accepted but not finished: the submitted ones, then the queued ones, oldest first. */
  unfinished(): Promise<TrackRecord[]>;
  countGuildSince(guildId: string, since: number): Promise<number>;
  countUserSince(guildId: string, userId: string, since: number): Promise<number>;
  creditsGuildSince(guildId: string, since: number): Promise<number>;
  topMembersSince(
    guildId: string,
    since: number,
    limit: number,
  ): Promise<{ userId: string; tracks: number }[]>;
}

export interface CompletedTrack {
  creditsUsed: number | null;
  /** How the track reached the member, e.g. `attachment via reply`. */
  delivery: string;
  actualSeconds?: number | undefined;
  generationMs?: number | undefined;
}

/** One ledger row by its ID, as the domain's record. */
export async function trackById(db: Db, id: string): Promise<TrackRecord | undefined> {
  const row = await db.selectFrom('usage').selectAll().where('id', '=', id).executeTakeFirst();
  return row && trackFromRow(row);
}

export function createUsageRepository(db: Db): UsageRepository {
  const counted = (guildId: string) =>
    db.selectFrom('usage').where('guild_id', '=', guildId).where('status', 'in', COUNTED);
  /** Every way a request ends: its outcome, the time, and the interaction token forgotten. */
  const end = async (id: string, at: number, outcome: Updateable<UsageTable>) => {
    await db
      .updateTable('usage')
      .set({ ...outcome, completed_at: at, interaction_token: null })
      .where('id', '=', id)
      .execute();
  };

  return {
    async insert(row) {
      await db.insertInto('usage').values(row).execute();
    },

    get: (id) => trackById(db, id),

    async markSubmitting(id, at) {
      await db
        .updateTable('usage')
        .set({ submitting_at: at })
        .where('id', '=', id)
        .where('status', '=', 'queued')
        .execute();
    },

    async markSubmitted(id, generationId, at) {
      await db
        .updateTable('usage')
        .set({ status: 'submitted', generation_id: generationId, submitted_at: at })
        .where('id', '=', id)
        .execute();
    },

    markCompleted: (id, outcome, at) =>
      end(id, at, {
        status: 'completed',
        credits_used: outcome.creditsUsed,
        delivery: outcome.delivery,
        actual_seconds: outcome.actualSeconds ?? null,
        generation_ms: outcome.generationMs ?? null,
      }),

    markFailed: (id, error, creditsUsed, at) =>
      end(id, at, { status: 'failed', error: error.slice(0, 500), credits_used: creditsUsed }),

    markCancelled: (id, byUserId, at) =>
      end(id, at, { status: 'cancelled', error: `cancelled by ${byUserId}` }),

    async setReplyMessage(id, messageId) {
      await db.updateTable('usage').set({ reply_message_id: messageId }).where('id', '=', id).execute();
    },

    async recentDurations(limit) {
      const rows = await db
        .selectFrom('usage')
        .select(['length_seconds', 'generation_ms'])
        .where('status', '=', 'completed')
        .where('generation_ms', 'is not', null)
        .orderBy('completed_at', 'desc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ lengthSeconds: r.length_seconds, generationMs: Number(r.generation_ms) }));
    },

    // Submitted jobs held their server's slots before the restart, so they take them again first.
    async unfinished() {
      const byStatus = async (status: UsageStatus) =>
        (
          await db
            .selectFrom('usage')
            .selectAll()
            .where('status', '=', status)
            .orderBy('requested_at')
            .orderBy('id')
            .execute()
        ).map(trackFromRow);
      return [...(await byStatus('submitted')), ...(await byStatus('queued'))];
    },

    async countGuildSince(guildId, since) {
      const row = await counted(guildId)
        .where('requested_at', '>=', since)
        .select((eb) => eb.fn.countAll<Aggregate>().as('n'))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    async countUserSince(guildId, userId, since) {
      const row = await counted(guildId)
        .where('user_id', '=', userId)
        .where('requested_at', '>=', since)
        .select((eb) => eb.fn.countAll<Aggregate>().as('n'))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    // Credits are spent even by generations that failed, so every row with a charge counts, and
    // lyrics drafts with them.
    async creditsGuildSince(guildId, since) {
      const row = await db
        .selectFrom('usage')
        .where('guild_id', '=', guildId)
        .where('requested_at', '>=', since)
        .select((eb) => [
          eb.fn.sum<Aggregate | null>('credits_used').as('credits'),
          lyricsCreditsSince(eb, guildId, since),
        ])
        .executeTakeFirst();
      return Number(row?.credits ?? 0) + Number(row?.lyrics_credits ?? 0);
    },

    async topMembersSince(guildId, since, limit) {
      const rows = await counted(guildId)
        .where('requested_at', '>=', since)
        .select((eb) => ['user_id', eb.fn.countAll<Aggregate>().as('tracks')])
        .groupBy('user_id')
        .orderBy('tracks', 'desc')
        .orderBy('user_id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ userId: r.user_id, tracks: Number(r.tracks) }));
    },
  };
}
