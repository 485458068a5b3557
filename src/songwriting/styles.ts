import { STYLE_MAX_CHARS } from './prompt.js';

/** Genres offered to everyone; the server's own favourites come first. */
export const CURATED_STYLES: readonly string[] = [
  'Acoustic folk',
  'Afrobeat',
  'Ambient',
  'Bluegrass',
  'Blues rock',
  'Bossa nova',
  'Chiptune',
  'Cinematic orchestral',
  'City pop',
  'Country',
  'Dancehall',
  'Disco',
  'Drum and bass',
  'Dubstep',
  'EDM',
  'Funk',
  'Gospel',
  'Grunge',
  'Hip hop',
  'House',
  'Indie pop',
  'Indie rock',
  'Jazz',
  'K-pop',
  'Latin pop',
  'Lo-fi hip hop',
  'Metal',
  'Motown soul',
  'Neo-soul',
  'Punk rock',
  'R&B',
  'Reggae',
  'Reggaeton',
  'Shoegaze',
  'Singer-songwriter',
  'Ska',
  'Smooth jazz',
  'Synthwave',
  'Techno',
  'Trance',
  'Trap',
];

/** Discord's ceiling on autocomplete choices. */
export const MAX_CHOICES = 25;
/** What is matched of the typed text: enough to tell styles apart, and cheap on crafted input. */
const QUERY_MAX_CHARS = STYLE_MAX_CHARS;

/**
 * Autocomplete choices for a style: the server's most used styles, then curated genres, that
 * contain what was typed (case-insensitive). Any input gives an answer: a non-string, empty or
 * oversized value is treated as its first hundred characters or as nothing.
 */
export function styleChoices(typed: unknown, serverStyles: readonly string[]): string[] {
  const query = (typeof typed === 'string' ? typed.slice(0, QUERY_MAX_CHARS) : '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
  const seen = new Set<string>();
  const choices: string[] = [];
  for (const style of [...serverStyles, ...CURATED_STYLES]) {
    const clean = style.replace(/\s+/g, ' ').trim();
    const key = clean.toLowerCase();
    if (clean === '' || clean.length > STYLE_MAX_CHARS || seen.has(key)) continue;
    if (query !== '' && !key.includes(query)) continue;
    seen.add(key);
    choices.push(clean);
    if (choices.length === MAX_CHOICES) break;
  }
  return choices;
}

export interface PopularStylesOptions {
  /** The server's most used styles since a time, most used first. */
  load(guildId: string, since: number): Promise<string[]>;
  now(): number;
  /** How far back "most used" looks (default 30 days). */
  windowMs?: number;
  /** How long an answer is reused (default 60 s): members type a letter at a time. */
  ttlMs?: number;
  /** Longest wait for the store before answering without favourites (default 1.5 s). */
  waitMs?: number;
}

/**
 * The server's favourite styles for autocomplete, kept for a minute per server and never waited
 * on for long: Discord drops an answer after 3 s, so a slow store gives the curated list alone
 * this time, and its result is kept for the next keystroke.
 */
export function createPopularStyles(options: PopularStylesOptions): (guildId: string) => Promise<string[]> {
  const windowMs = options.windowMs ?? 30 * 24 * 3600 * 1000;
  const ttlMs = options.ttlMs ?? 60_000;
  const waitMs = options.waitMs ?? 1_500;
  const cache = new Map<string, { at: number; styles: Promise<string[]> }>();
  return async (guildId) => {
    const now = options.now();
    let entry = cache.get(guildId);
    if (!entry || now - entry.at > ttlMs) {
      const styles = options.load(guildId, now - windowMs).catch(() => []);
      entry = { at: now, styles };
      cache.set(guildId, entry);
      // Bounded: a bot in many servers keeps only the recently asked ones.
      if (cache.size > 10_000) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string[]>((resolve) => {
      timer = setTimeout(() => resolve([]), waitMs);
    });
    try {
      return await Promise.race([entry.styles, late]);
    } finally {
      clearTimeout(timer);
    }
  };
}
