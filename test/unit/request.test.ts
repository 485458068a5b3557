import { describe, expect, it } from 'vitest';
import { validateMusicRequest } from '../../src/generation/request.js';

describe('validateMusicRequest', () => {
  it('accepts a prompt and trims it, leaving an unset length to the server default', () => {
    expect(validateMusicRequest({ prompt: '  lofi beats  ', length: undefined })).toEqual({
      ok: true,
      value: { prompt: 'lofi beats', lengthSeconds: undefined },
    });
  });

  it('accepts both ends of the length range', () => {
    expect(validateMusicRequest({ prompt: 'x', length: 10 })).toMatchObject({
      ok: true,
      value: { lengthSeconds: 10 },
    });
    expect(validateMusicRequest({ prompt: 'x', length: 300 })).toMatchObject({
      ok: true,
      value: { lengthSeconds: 300 },
    });
  });

  it('names the prompt length and the limit', () => {
    expect(validateMusicRequest({ prompt: 'a'.repeat(2143), length: 30 })).toEqual({
      ok: false,
      problems: ['The prompt is 2,143 characters; the limit is 2,000.'],
    });
  });

  it('counts the prompt after trimming', () => {
    expect(validateMusicRequest({ prompt: ` ${'a'.repeat(2000)} `, length: 30 }).ok).toBe(true);
  });

  it.each([
    ['zero-width spaces', '\u200b\u200b\u200b'],
    ['joiners and a word joiner', '\u200c\u200d\u2060'],
    ['a byte order mark and direction marks', '\ufeff\u200e\u200f\u061c'],
    ['direction overrides and isolates among spaces', ' \u202e \u2066\u2069 '],
    ['a soft hyphen and a Hangul filler', '\u00ad\u3164'],
  ])('refuses a prompt made only of %s as empty', (_case, prompt) => {
    const result = validateMusicRequest({ prompt, length: 30 });
    expect(result).toEqual({
      ok: false,
      problems: ['The prompt is empty. Describe the music you want: genre, mood, instruments, or lyrics.'],
    });
  });

  it('keeps invisible characters inside a prompt that has visible ones', () => {
    expect(validateMusicRequest({ prompt: 'lofi\u200bbeats 👨\u200d👩', length: 30 })).toEqual({
      ok: true,
      value: { prompt: 'lofi\u200bbeats 👨\u200d👩', lengthSeconds: 30 },
    });
  });

  it('refuses an empty or whitespace prompt', () => {
    const result = validateMusicRequest({ prompt: '   ', length: 30 });
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems[0]).toMatch(/prompt is empty/);
  });

  it.each([
    [9, 'got 9'],
    [301, 'got 301'],
    [30.5, 'got 30.5'],
    ['45', 'got "45"'],
    [Number.NaN, 'got a number out of range'],
  ])('refuses length %s with the allowed range', (length, detail) => {
    const result = validateMusicRequest({ prompt: 'ok', length });
    expect(result).toEqual({
      ok: false,
      problems: [`The length must be a whole number of seconds from 10 to 300; ${detail}.`],
    });
  });

  it('reports every problem at once, and a prompt of the wrong type as empty', () => {
    const result = validateMusicRequest({ prompt: 42, length: 5 });
    expect(!result.ok && result.problems).toHaveLength(2);
  });
});
