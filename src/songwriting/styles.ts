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
