import { isBlank, PROMPT_MAX_CHARS, type Validated } from './request.js';

const count = (n: number) => n.toLocaleString('en-US');

/** Lines that introduce the lyrics in a composed prompt. */
const LYRICS_HEADING = '\n\nLyrics:\n';

/**
 * One provider prompt from a style description and optional lyrics. The provider reads the words
 * after the heading as lyrics; the whole must fit its prompt limit, heading included.
 */
export function composePrompt(input: { style: unknown; lyrics: unknown }): Validated<string> {
  const style = typeof input.style === 'string' ? input.style.trim() : '';
  const lyrics = typeof input.lyrics === 'string' ? input.lyrics.trim() : '';
  if (isBlank(style)) {
    return {
      ok: false,
      problems: ['The style is empty. Describe the song: genre, mood, instruments, voice.'],
    };
  }
  const prompt = isBlank(lyrics) ? style : `${style}${LYRICS_HEADING}${lyrics}`;
  if (prompt.length > PROMPT_MAX_CHARS) {
    const over = prompt.length - PROMPT_MAX_CHARS;
    const parts =
      lyrics.length === 0
        ? `The style is ${count(style.length)} characters`
        : `The style (${count(style.length)} characters) and lyrics (${count(lyrics.length)}) come to ${count(prompt.length)} characters together`;
    return {
      ok: false,
      problems: [
        `${parts}; the limit is ${count(PROMPT_MAX_CHARS)}. Cut ${count(over)} character${over === 1 ? '' : 's'} and try again.`,
      ],
    };
  }
  return { ok: true, value: prompt };
}

/**
 * A length typed into a text field: blank is "not given", digits are a number, anything else is
 * passed on as typed so that validation names it.
 */
export function lengthFromText(text: unknown): unknown {
  if (typeof text !== 'string') return text;
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  return /^\d{1,6}$/.test(trimmed) ? Number(trimmed) : trimmed;
}
