import { PostgresAdapter, type Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';

/** PostgreSQL has no `autoincrement` keyword: its counterpart is the `serial` type. */
const isPostgres = (db: Kysely<unknown>) => db.getExecutor().adapter instanceof PostgresAdapter;

/**
 * Every migration, listed in code: nothing scans a folder, so the same list works from `src/`
 * under tsx and from `dist/`. Only Kysely's schema builder is used, so they run on PostgreSQL too.
 */
/** Columns added to an existing table, each nullable so that existing rows stay valid. */
async function addNullableColumns(
  db: Kysely<unknown>,
  table: string,
  columns: readonly (readonly [string, 'text' | 'integer' | 'real' | 'bigint'])[],
): Promise<void> {
  for (const [column, type] of columns) await db.schema.alterTable(table).addColumn(column, type).execute();
}

const migrations: Record<string, Migration> = {
  '001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('guild_settings')
        .addColumn('guild_id', 'text', (c) => c.primaryKey())
        .addColumn('max_length_seconds', 'integer')
        .addColumn('default_length_seconds', 'integer')
        .addColumn('user_daily', 'integer')
        .addColumn('guild_daily', 'integer')
        .addColumn('cooldown_seconds', 'integer')
        .addColumn('concurrent', 'integer')
        .addColumn('monthly_credits', 'integer')
        .addColumn('exempt_role_id', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('settings_changes')
        .addColumn('id', isPostgres(db) ? 'serial' : 'integer', (c) =>
          isPostgres(db) ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('guild_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('setting', 'text', (c) => c.notNull())
        .addColumn('old_value', 'text')
        .addColumn('new_value', 'text')
        .addColumn('changed_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('settings_changes_guild')
        .on('settings_changes')
        .columns(['guild_id', 'changed_at'])
        .execute();

      await db.schema
        .createTable('blocked_words')
        .addColumn('guild_id', 'text', (c) => c.notNull())
        .addColumn('word', 'text', (c) => c.notNull())
        .addColumn('added_by', 'text', (c) => c.notNull())
        .addColumn('added_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('blocked_words_pk', ['guild_id', 'word'])
        .execute();

      await db.schema
        .createTable('usage')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('guild_id', 'text', (c) => c.notNull())
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('prompt', 'text', (c) => c.notNull())
        .addColumn('length_seconds', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('generation_id', 'text')
        .addColumn('credits_used', 'real')
        .addColumn('requested_at', 'bigint', (c) => c.notNull())
        .addColumn('submitted_at', 'bigint')
        .addColumn('completed_at', 'bigint')
        .addColumn('error', 'text')
        .execute();
      await db.schema
        .createIndex('usage_guild_time')
        .on('usage')
        .columns(['guild_id', 'requested_at'])
        .execute();
      await db.schema
        .createIndex('usage_guild_user_time')
        .on('usage')
        .columns(['guild_id', 'user_id', 'requested_at'])
        .execute();
      await db.schema.createIndex('usage_status').on('usage').column('status').execute();
    },
  },
  // Enough of each request to finish it after a restart. The interaction token is a credential
  // for 15 minutes: it is cleared as soon as the request ends.
  '002_resumable_jobs': {
    async up(db: Kysely<unknown>) {
      await addNullableColumns(db, 'usage', [
        ['application_id', 'text'],
        ['interaction_token', 'text'],
        ['upload_limit_bytes', 'integer'],
        ['reply_message_id', 'text'],
        ['delivery', 'text'],
      ]);
    },
  },
  // Tracks as members see them: a number per server, lineage, and what the finished file was.
  '003_tracks': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('usage')
        .addColumn('kind', 'text', (c) => c.notNull().defaultTo('music'))
        .execute();
      await addNullableColumns(db, 'usage', [
        ['parent_id', 'text'],
        ['track_number', 'integer'],
        ['actual_seconds', 'real'],
        ['generation_ms', 'bigint'],
        ['deleted_at', 'bigint'],
        ['deleted_by', 'text'],
      ]);
      await db.schema
        .createIndex('usage_guild_track_number')
        .unique()
        .on('usage')
        .columns(['guild_id', 'track_number'])
        .execute();
      await db.schema.createIndex('usage_parent').on('usage').column('parent_id').execute();
    },
  },
  // The mark before the provider's POST (see `generation/job.ts`): a crash after the provider
  // answered and before the ledger recorded it is then resubmitted visibly, never silently.
  '004_submitting': {
    async up(db: Kysely<unknown>) {
      await addNullableColumns(db, 'usage', [['submitting_at', 'bigint']]);
    },
  },
  // Songwriting: lyrics drafts (their own daily allowance, their credits in the server's budget),
  // members' personal defaults, and what a track was made from (style, vocals, lyrics, a message).
  '005_songwriting': {
    async up(db: Kysely<unknown>) {
      await addNullableColumns(db, 'guild_settings', [['lyrics_daily', 'integer']]);
      await addNullableColumns(db, 'usage', [
        ['style', 'text'],
        ['lyrics', 'text'],
        ['vocals', 'text'],
        ['prefs_applied', 'text'],
        ['source_message_id', 'text'],
        ['source_channel_id', 'text'],
        ['source_author_id', 'text'],
        ['source_author_name', 'text'],
      ]);
      // Style suggestions read a month of one server's styles: covered by this index alone.
      await db.schema
        .createIndex('usage_guild_time_style')
        .on('usage')
        .columns(['guild_id', 'requested_at', 'style', 'status'])
        .execute();
      await db.schema
        .createTable('lyrics_drafts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('guild_id', 'text', (c) => c.notNull())
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('idea', 'text', (c) => c.notNull())
        .addColumn('style', 'text')
        .addColumn('lyrics', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('credits_used', 'real')
        .addColumn('requested_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('lyrics_drafts_guild_user_time')
        .on('lyrics_drafts')
        .columns(['guild_id', 'user_id', 'requested_at'])
        .execute();
      await db.schema
        .createIndex('lyrics_drafts_guild_time')
        .on('lyrics_drafts')
        .columns(['guild_id', 'requested_at'])
        .execute();
      await db.schema
        .createTable('member_prefs')
        .addColumn('guild_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('length_seconds', 'integer')
        .addColumn('vocals', 'text')
        .addColumn('style_suffix', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('member_prefs_pk', ['guild_id', 'user_id'])
        .execute();
    },
  },
  // The web side: where each delivered file lives on Discord (to fetch a fresh link for it from any
  // host), its waveform, signed-in browsers, and which surface made each settings change.
  '006_web': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('track_media')
        .addColumn('request_id', 'text', (c) => c.primaryKey())
        .addColumn('guild_id', 'text', (c) => c.notNull())
        .addColumn('channel_id', 'text', (c) => c.notNull())
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('audio_url', 'text')
        .addColumn('audio_name', 'text')
        .addColumn('audio_bytes', 'integer')
        .addColumn('peaks', 'text')
        .addColumn('fresh_url', 'text')
        .addColumn('fresh_until', 'bigint')
        .execute();
      await db.schema
        .createTable('web_sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('guild_ids', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await addNullableColumns(db, 'settings_changes', [['source', 'text']]);
    },
  },
  // Listening sessions and their queues, so a restart rejoins and plays the rest (issue 17).
  '007_voice': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('voice_sessions')
        .addColumn('guild_id', 'text', (c) => c.primaryKey())
        .addColumn('voice_channel_id', 'text', (c) => c.notNull())
        .addColumn('text_channel_id', 'text', (c) => c.notNull())
        .addColumn('started_by', 'text', (c) => c.notNull())
        .addColumn('status_message_id', 'text')
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('voice_queue')
        .addColumn('id', isPostgres(db) ? 'serial' : 'integer', (c) =>
          isPostgres(db) ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('guild_id', 'text', (c) => c.notNull())
        .addColumn('track_id', 'text', (c) => c.notNull())
        .addColumn('requested_by', 'text', (c) => c.notNull())
        .addColumn('added_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('voice_queue_guild')
        .on('voice_queue')
        .columns(['guild_id', 'id'])
        .execute();
    },
  },
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};
