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

/** A song as it is recorded: null or undefined both mean "not chosen". */
export interface SongChoices {
  style?: string | null | undefined;
  vocals?: SongDetails['vocals'] | null;
  lyrics?: string | null | undefined;
  prefsApplied?: string | null | undefined;
  credit?: MessageCredit | null | undefined;
}

/**
 * What the card, /tracks and the gallery show of a song (the lyrics themselves stay behind the
 * Lyrics button); undefined when nothing was chosen beyond the prompt.
 */
export function songDetailsOf(song: SongChoices): SongDetails | undefined {
  const details: SongDetails = {
    ...(song.style == null ? {} : { style: song.style }),
    ...(song.vocals == null ? {} : { vocals: song.vocals }),
    ...(song.lyrics == null ? {} : { hasLyrics: true }),
    ...(song.prefsApplied == null ? {} : { prefsApplied: song.prefsApplied }),
    ...(song.credit == null ? {} : { credit: song.credit }),
  };
  return Object.keys(details).length === 0 ? undefined : details;
}
