import type { Generated } from 'kysely';
import type { TrackKind, UsageStatus, Vocals } from '../domain/track.js';

/**
 * Tables as Kysely sees them. Times are integers (ms since the epoch), Discord IDs are text, and a
 * null setting means "use the default": the same types work on SQLite and PostgreSQL.
 */
export interface GuildSettingsTable {
  guild_id: string;
  max_length_seconds: number | null;
  default_length_seconds: number | null;
  user_daily: number | null;
  guild_daily: number | null;
  cooldown_seconds: number | null;
  concurrent: number | null;
  monthly_credits: number | null;
  exempt_role_id: string | null;
  lyrics_daily: number | null;
  updated_at: number;
}

export interface SettingsChangesTable {
  id: Generated<number>;
  guild_id: string;
  user_id: string;
  setting: string;
  old_value: string | null;
  new_value: string | null;
  changed_at: number;
  /** Where the change was made: 'discord' (the slash command) or 'web'; null before 006_web. */
  source: string | null;
}

export interface BlockedWordsTable {
  guild_id: string;
  word: string;
  added_by: string;
  added_at: number;
}

export interface UsageTable {
  id: string;
  guild_id: string;
  channel_id: string;
  user_id: string;
  prompt: string;
  length_seconds: number;
  status: UsageStatus;
  generation_id: string | null;
  credits_used: number | null;
  requested_at: number;
  submitted_at: number | null;
  completed_at: number | null;
  error: string | null;
  application_id: string | null;
  /** Cleared when the request ends. */
  interaction_token: string | null;
  upload_limit_bytes: number | null;
  reply_message_id: string | null;
  /** How the track reached the member: attachment, link, channel-edit, new-message. */
  delivery: string | null;
  kind: Generated<TrackKind>;
  /** The request this one regenerates or remixes. */
  parent_id: string | null;
  /** Per-server number, given when the track is delivered (#1, #2, ...). */
  track_number: number | null;
  /** Read from the delivered mp3 itself. */
  actual_seconds: number | null;
  /** From submission to the provider reporting the track done. */
  generation_ms: number | null;
  /** The track message was deleted; the record stays for history and lineage. */
  deleted_at: number | null;
  deleted_by: string | null;
  /**
   * Written just before the provider's POST. A row found with it and no generation ID after a
   * restart was cut short between the POST and the ledger, and is submitted again (and counted).
   */
  submitting_at: number | null;
  /** The style the member chose (/music style:, the compose form), kept apart from the prompt. */
  style: string | null;
  /** The lyrics the track was made from (the compose form, a draft, a message). */
  lyrics: string | null;
  /** The member's explicit choice; null when none was made. */
  vocals: Vocals | null;
  /** Which personal defaults shaped the request, as shown on the card (e.g. "length 60 s"). */
  prefs_applied: string | null;
  /** The message whose text became the lyrics ("Make a track from this"). */
  source_message_id: string | null;
  source_channel_id: string | null;
  source_author_id: string | null;
  /** The author's name when the track was made, so the credit never needs a mention (a ping). */
  source_author_name: string | null;
}

/** `pending` while the model writes; `blocked` drafts held a blocked word and were shown to nobody. */
export type LyricsDraftStatus = 'pending' | 'drafted' | 'blocked' | 'failed';

export interface LyricsDraftsTable {
  id: string;
  guild_id: string;
  channel_id: string;
  user_id: string;
  idea: string;
  style: string | null;
  lyrics: string | null;
  status: LyricsDraftStatus;
  credits_used: number | null;
  requested_at: number;
}

export interface MemberPrefsTable {
  guild_id: string;
  user_id: string;
  length_seconds: number | null;
  vocals: Vocals | null;
  style_suffix: string | null;
  updated_at: number;
}

/** Where a delivered track's file is on Discord, and its waveform. */
export interface TrackMediaTable {
  request_id: string;
  guild_id: string;
  channel_id: string;
  message_id: string;
  /** The attachment's link as Discord first gave it; null for a track delivered as a link. */
  audio_url: string | null;
  audio_name: string | null;
  audio_bytes: number | null;
  /** Comma-separated levels 0-255 (see src/audio/waveform.ts); null when undecodable. */
  peaks: string | null;
  /** The latest refreshed link and until when it is good, shared by every web host. */
  fresh_url: string | null;
  fresh_until: number | null;
}

/** A signed-in browser. Only a hash of the cookie's value is kept, and no Discord token at all. */
export interface WebSessionsTable {
  id_hash: string;
  user_id: string;
  user_name: string;
  /**
   * The servers Discord listed for the person at sign-in, comma-separated: only which servers to
   * offer on /servers. Every page still asks the bot whether the person is a member.
   */
  guild_ids: string;
  created_at: number;
  expires_at: number;
}

/** A server where the bot is listening: where it plays and where its now-playing line is. */
export interface VoiceSessionsTable {
  guild_id: string;
  voice_channel_id: string;
  text_channel_id: string;
  started_by: string;
  status_message_id: string | null;
  started_at: number;
}

/** A server's listening queue in order of `id`; the first row is the track playing. */
export interface VoiceQueueTable {
  id: Generated<number>;
  guild_id: string;
  /** The usage row (request ID) of the track. */
  track_id: string;
  /** Who queued it: the requester for a delivery, the clicker for Play in voice. */
  requested_by: string;
  added_at: number;
}

export interface Schema {
  voice_sessions: VoiceSessionsTable;
  voice_queue: VoiceQueueTable;
  guild_settings: GuildSettingsTable;
  settings_changes: SettingsChangesTable;
  blocked_words: BlockedWordsTable;
  usage: UsageTable;
  lyrics_drafts: LyricsDraftsTable;
  member_prefs: MemberPrefsTable;
  track_media: TrackMediaTable;
  web_sessions: WebSessionsTable;
}
