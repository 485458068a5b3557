/**
 * A track's song details as domain data, so every surface (the card, /tracks, the gallery) reads
 * the same fields.
 */

/** Whose message a track's lyrics came from: named, never mentioned, and linked. */
export interface MessageCredit {
  authorId: string;
  /** As Discord showed the author when the track was made. */
  authorName: string;
  guildId: string;
  channelId: string;
  messageId: string;
}

/** What the member chose beyond the prompt itself, kept so the card can show it. */
export interface SongDetails {
  style?: string;
  vocals?: 'vocals' | 'instrumental';
  /** The track was made from lyrics (its card offers a Lyrics button). */
  hasLyrics?: boolean;
  /** Personal defaults that shaped the request, as the card words them. */
  prefsApplied?: string;
  credit?: MessageCredit;
}
