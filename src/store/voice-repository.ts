import type { Db } from './db.js';

export interface VoiceSession {
  guildId: string;
  voiceChannelId: string;
  textChannelId: string;
  startedBy: string;
  statusMessageId: string | null;
  startedAt: number;
}

export interface QueueEntry {
  id: number;
  guildId: string;
  trackId: string;
  requestedBy: string;
  addedAt: number;
}

/** Listening sessions and their queues, kept so that a restart carries on where it stopped. */
export interface VoiceRepository {
  sessions(): Promise<VoiceSession[]>;
  saveSession(session: VoiceSession): Promise<void>;
  setStatusMessage(guildId: string, messageId: string): Promise<void>;
  setVoiceChannel(guildId: string, channelId: string): Promise<void>;
  /** Ends the session and drops its queue. */
  endSession(guildId: string): Promise<void>;
  enqueue(entry: Omit<QueueEntry, 'id'>): Promise<QueueEntry>;
  /** In play order; the first is the track playing (or about to). */
  queue(guildId: string): Promise<QueueEntry[]>;
  remove(entryId: number): Promise<void>;
}

export function createVoiceRepository(db: Db): VoiceRepository {
  return {
    async sessions() {
      const rows = await db.selectFrom('voice_sessions').selectAll().orderBy('started_at').execute();
      return rows.map((row) => ({
        guildId: row.guild_id,
        voiceChannelId: row.voice_channel_id,
        textChannelId: row.text_channel_id,
        startedBy: row.started_by,
        statusMessageId: row.status_message_id,
        startedAt: row.started_at,
      }));
    },
    async saveSession(session) {
      const values = {
        guild_id: session.guildId,
        voice_channel_id: session.voiceChannelId,
        text_channel_id: session.textChannelId,
        started_by: session.startedBy,
        status_message_id: session.statusMessageId,
        started_at: session.startedAt,
      };
      await db
        .insertInto('voice_sessions')
        .values(values)
        .onConflict((c) => c.column('guild_id').doUpdateSet(values))
        .execute();
    },
    async setStatusMessage(guildId, messageId) {
      await db
        .updateTable('voice_sessions')
        .set({ status_message_id: messageId })
        .where('guild_id', '=', guildId)
        .execute();
    },
    async setVoiceChannel(guildId, channelId) {
      await db
        .updateTable('voice_sessions')
        .set({ voice_channel_id: channelId })
        .where('guild_id', '=', guildId)
        .execute();
    },
    async endSession(guildId) {
      await db.transaction().execute(async (trx) => {
        await trx.deleteFrom('voice_queue').where('guild_id', '=', guildId).execute();
        await trx.deleteFrom('voice_sessions').where('guild_id', '=', guildId).execute();
      });
    },
    async enqueue(entry) {
      const row = await db
        .insertInto('voice_queue')
        .values({
          guild_id: entry.guildId,
          track_id: entry.trackId,
          requested_by: entry.requestedBy,
          added_at: entry.addedAt,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { ...entry, id: row.id };
    },
    async queue(guildId) {
      const rows = await db
        .selectFrom('voice_queue')
        .selectAll()
        .where('guild_id', '=', guildId)
        .orderBy('id')
        .execute();
      return rows.map((row) => ({
        id: row.id,
        guildId: row.guild_id,
        trackId: row.track_id,
        requestedBy: row.requested_by,
        addedAt: row.added_at,
      }));
    },
    async remove(entryId) {
      await db.deleteFrom('voice_queue').where('id', '=', entryId).execute();
    },
  };
}
