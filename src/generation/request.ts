/** The provider's own bounds (see the API reference): prompt length and `music_length_ms`. */
export const PROMPT_MAX_CHARS = 2000;
export const LENGTH_MIN_SECONDS = 10;
export const LENGTH_MAX_SECONDS = 300;

export type Validated<T> = { ok: true; value: T } | { ok: false; problems: string[] };

const count = (n: number) => n.toLocaleString('en-US');

/**
 * Text that shows nothing: white space and the code points Unicode marks as ignorable when
 * rendering (zero-width space, joiners, word joiner, BOM, direction marks and isolates, soft
 * hyphen, Hangul fillers). Such a prompt would reach the provider and spend credits on nothing.
 */
const INVISIBLE_ONLY = /^[\p{White_Space}\p{Default_Ignorable_Code_Point}]*$/u;

/** Whether `text` has nothing a reader could see; the text itself is kept as typed otherwise. */
export function isBlank(text: string): boolean {
  return INVISIBLE_ONLY.test(text);
}

/**
 * Checks a request as it arrived from Discord. The command definition already limits both options,
 * but a crafted payload skips those checks, so nothing here trusts them.
 */
export function validateMusicRequest(input: {
  prompt: unknown;
  length: unknown;
}): Validated<{ prompt: string; lengthSeconds: number | undefined }> {
  const problems: string[] = [];
  const prompt = typeof input.prompt === 'string' ? input.prompt.trim() : '';
  if (typeof input.prompt !== 'string' || isBlank(prompt)) {
    problems.push('The prompt is empty. Describe the music you want: genre, mood, instruments, or lyrics.');
  } else if (prompt.length > PROMPT_MAX_CHARS) {
    problems.push(
      `The prompt is ${count(prompt.length)} characters; the limit is ${count(PROMPT_MAX_CHARS)}.`,
    );
  }

  // Unset stays unset: the server's own default length applies later.
  let lengthSeconds: number | undefined;
  if (input.length !== undefined && input.length !== null) {
    const n = input.length;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < LENGTH_MIN_SECONDS || n > LENGTH_MAX_SECONDS) {
      problems.push(
        `The length must be a whole number of seconds from ${LENGTH_MIN_SECONDS} to ${LENGTH_MAX_SECONDS}; got ${describe(n)}.`,
      );
    } else {
      lengthSeconds = n;
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: { prompt, lengthSeconds } };
}

function describe(value: unknown): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'a number out of range';
  if (typeof value === 'string') return `"${value.slice(0, 20)}"`;
  return typeof value;
}
