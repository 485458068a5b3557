import type { MessageCredit, SongDetails } from './song.js';

/** `queued` and `submitted` are in flight; `failed` and `cancelled` rows gave their slot back. */
export type UsageStatus = 'queued' | 'submitted' | 'completed' | 'failed' | 'cancelled';

/** How a request started: a slash command, a composed song, or a button on an earlier track. */
export type TrackKind = 'music' | 'compose' | 'regenerate' | 'remix';

export type Vocals = NonNullable<SongDetails['vocals']>;

/**
 * One request as the ledger keeps it and, once delivered, the track it made: what `/tracks`, the
 * buttons, the gallery, voice and a restarted bot read. The store maps its rows to this; nothing
 * above the store sees a column name. Times are ms since the epoch; null means "not (yet) so".
 */
export interface TrackRecord {
  id: string;
  guildId: string;
  channelId: string;
  userId: string;
  prompt: string;
  lengthSeconds: number;
  status: UsageStatus;
  kind: TrackKind;
  generationId: string | null;
  creditsUsed: number | null;
  requestedAt: number;
  /** Written just before the provider's POST (see the ledger's `submitting_at`). */
  submittingAt: number | null;
  submittedAt: number | null;
  completedAt: number | null;
  error: string | null;
  applicationId: string | null;
  /** Sealed (see store/token-cipher.ts); cleared when the request ends. */
  interactionToken: string | null;
  uploadLimitBytes: number | null;
  replyMessageId: string | null;
  /** How the track reached the member: attachment, link, channel-edit, new-message. */
  delivery: string | null;
  /** The request this one regenerates or remixes. */
  parentId: string | null;
  /** Per-server number, given when the track is delivered (#1, #2, ...). */
  trackNumber: number | null;
  /** Read from the delivered mp3 itself. */
  actualSeconds: number | null;
  /** From submission to the provider reporting the track done. */
  generationMs: number | null;
  /** The track message was deleted; the record stays for history and lineage. */
  deletedAt: number | null;
  deletedBy: string | null;
  style: string | null;
  /** The lyrics in full (the card only says there are some). */
  lyrics: string | null;
  vocals: Vocals | null;
  prefsApplied: string | null;
  /** The message whose text became the lyrics. */
  credit: MessageCredit | null;
}

/** Where a delivered track's file is on Discord, and its waveform. */
export interface TrackMedia {
  requestId: string;
  guildId: string;
  channelId: string;
  messageId: string;
  /** The attachment's link as Discord first gave it; null for a track delivered as a link. */
  audioUrl: string | null;
  audioName: string | null;
  audioBytes: number | null;
  /**
   * Levels 0-255 as `encodePeaks` writes them (src/audio/waveform.ts), decoded only where a
   * waveform is drawn; null when the file could not be decoded.
   */
  peaks: string | null;
  /** The latest refreshed link and until when it is good, shared by every web host. */
  freshUrl: string | null;
  freshUntil: number | null;
}

/** What a request that builds on this track needs to know of it. */
export function parentOf(track: TrackRecord): { id: string; userId: string; trackNumber: number | null } {
  return { id: track.id, userId: track.userId, trackNumber: track.trackNumber };
}
