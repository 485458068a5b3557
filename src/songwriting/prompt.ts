import { composePrompt } from '../generation/compose.js';
import { PROMPT_MAX_CHARS, type Validated } from '../generation/request.js';

export type Vocals = 'vocals' | 'instrumental';

/** The provider has no vocals field: the choice becomes words in the prompt, shown on the card too. */
const VOCALS_WORDING: Record<Vocals, string> = {
  instrumental: 'Instrumental only, no vocals.',
  vocals: 'With sung vocals.',
};

/** A style suffix or a style: short enough to leave room for the prompt itself. */
export const STYLE_MAX_CHARS = 100;
export const SUFFIX_MAX_CHARS = 200;

export interface SongInput {
  /** The compose form's style, or /music's `style` option. */
  style?: string | undefined;
  /** /music's prompt when no style was chosen: a description of the music. */
  description?: string | undefined;
  /** The compose form's lyrics, or /music's prompt when a style was chosen (as /compose joins them). */
  lyrics?: string | undefined;
  vocals?: Vocals | undefined;
  /** The member's personal style suffix. */
  suffix?: string | undefined;
}

export interface AssembledSong {
  prompt: string;
  /** The style as the card shows it. */
  style: string | undefined;
  /** The lyrics the prompt carries, for the Lyrics button. */
  lyrics: string | undefined;
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * One provider prompt from what the member gave. With no style, vocals choice or suffix, the prompt
 * is exactly what they typed; otherwise the extras join the style (or description), and lyrics
 * follow under the heading `/compose` uses.
 */
export function assembleSong(input: SongInput): Validated<AssembledSong> {
  const style = input.style?.trim() || undefined;
  const lyrics = input.lyrics?.trim() || undefined;
  const extras = [input.suffix?.trim(), input.vocals && VOCALS_WORDING[input.vocals]].filter(
    (part): part is string => part !== undefined && part !== '',
  );
  if (style === undefined && lyrics === undefined && extras.length === 0) {
    // Nothing to join: the text reaches the provider as typed (validated later like any prompt).
    return { ok: true, value: { prompt: input.description ?? '', style: undefined, lyrics: undefined } };
  }
  const head = style ?? input.description?.trim() ?? '';
  const composed = composePrompt({ style: [head, ...extras].join('\n'), lyrics });
  if (!composed.ok) {
    // Without the extras it would have fitted: say that the member's own choices made it too long.
    const bare = composePrompt({ style: head, lyrics });
    if (extras.length > 0 && bare.ok) {
      return {
        ok: false,
        problems: [
          `With your vocals choice and style suffix the prompt comes to more than ${count(PROMPT_MAX_CHARS)} characters. Shorten it, or see \`/music-prefs show\`.`,
        ],
      };
    }
    return composed;
  }
  return { ok: true, value: { prompt: composed.value, style, lyrics } };
}

/** "vocals", "instrumental", or a boolean from /music's `instrumental`; anything else is a problem. */
export function parseVocals(value: unknown): Validated<Vocals | undefined> {
  if (value === undefined || value === null) return { ok: true, value: undefined };
  if (value === true) return { ok: true, value: 'instrumental' };
  if (value === false) return { ok: true, value: 'vocals' };
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (word === '') return { ok: true, value: undefined };
    if (word === 'instrumental' || word === 'no vocals') return { ok: true, value: 'instrumental' };
    if (word === 'vocals' || word === 'with vocals') return { ok: true, value: 'vocals' };
  }
  return { ok: false, problems: ['Vocals must be "vocals" or "instrumental" (or left empty).'] };
}

/** A style as typed in an option: trimmed, 1 to 100 characters, one line. */
export function validateStyle(value: unknown): Validated<string | undefined> {
  if (value === undefined || value === null) return { ok: true, value: undefined };
  if (typeof value !== 'string') return { ok: false, problems: ['The style must be text.'] };
  const style = value.replace(/\s+/g, ' ').trim();
  if (style === '') return { ok: true, value: undefined };
  if (style.length > STYLE_MAX_CHARS) {
    return {
      ok: false,
      problems: [`The style is ${count(style.length)} characters; the limit is ${STYLE_MAX_CHARS}.`],
    };
  }
  return { ok: true, value: style };
}
