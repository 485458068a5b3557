import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { cleanLyrics, lyricsBudget } from '../../src/songwriting/lyrics.js';
import { assembleSong, parseVocals, validateStyle } from '../../src/songwriting/prompt.js';
import { createPopularStyles, CURATED_STYLES, styleChoices } from '../../src/songwriting/styles.js';

describe('assembleSong', () => {
  it('leaves a prompt exactly as typed when nothing is added', () => {
    expect(assembleSong({ description: '  as typed  ' })).toEqual({
      ok: true,
      value: { prompt: '  as typed  ', style: undefined, lyrics: undefined },
    });
  });

  it('joins style, suffix and vocals wording ahead of the lyrics, as /compose does', () => {
    const song = assembleSong({ style: 'Jazz', lyrics: 'la la', suffix: 'warm mix', vocals: 'instrumental' });
    expect(song).toEqual({
      ok: true,
      value: {
        prompt: 'Jazz\nwarm mix\nInstrumental only, no vocals.\n\nLyrics:\nla la',
        style: 'Jazz',
        lyrics: 'la la',
      },
    });
  });

  it('names the defaults when only they push the prompt past the provider limit', () => {
    const song = assembleSong({ description: 'x'.repeat(1990), suffix: 'a long suffix here' });
    expect(song.ok).toBe(false);
    expect(!song.ok && song.problems[0]).toMatch(
      /style suffix the prompt comes to more than 2,000 characters/,
    );
  });
});

describe('vocals and style values', () => {
  it('reads booleans and words, and refuses anything else', () => {
    expect(parseVocals(true)).toEqual({ ok: true, value: 'instrumental' });
    expect(parseVocals(false)).toEqual({ ok: true, value: 'vocals' });
    expect(parseVocals(' Instrumental ')).toEqual({ ok: true, value: 'instrumental' });
    expect(parseVocals('')).toEqual({ ok: true, value: undefined });
    expect(parseVocals(3).ok).toBe(false);
  });

  it('bounds a style to one line of 100 characters', () => {
    expect(validateStyle(' Sea \n shanty ')).toEqual({ ok: true, value: 'Sea shanty' });
    expect(validateStyle('x'.repeat(101)).ok).toBe(false);
    expect(validateStyle({}).ok).toBe(false);
  });
});

describe('styleChoices', () => {
  it('puts the server favourites first, drops duplicates and keeps to 25', () => {
    const choices = styleChoices('', ['Jazz', 'Harbour blues', 'jazz', 'y'.repeat(101)]);
    expect(choices.slice(0, 2)).toEqual(['Jazz', 'Harbour blues']);
    expect(choices).toHaveLength(25);
    expect(new Set(choices.map((c) => c.toLowerCase())).size).toBe(25);
  });

  it('matches case-insensitively and treats crafted input as text or nothing', () => {
    expect(styleChoices('HOUSE', [])).toEqual(['House']);
    expect(styleChoices(42, [])).toHaveLength(25);
    expect(styleChoices('.*(', [])).toEqual([]);
    expect(styleChoices('x'.repeat(100_000), [])).toEqual([]);
    expect(CURATED_STYLES.every((s) => s.length >= 1 && s.length <= 100)).toBe(true);
  });
});

describe('createPopularStyles', () => {
  it('reads a server once a minute, and answers without favourites when the store is slow or down', async () => {
    let t = 1_000_000;
    const loads: [string, number][] = [];
    const popular = createPopularStyles({
      load: (guildId, since) => {
        loads.push([guildId, since]);
        if (guildId === 'slow') return new Promise<string[]>(() => undefined);
        if (guildId === 'down') return Promise.reject(new Error('store unreachable'));
        return Promise.resolve(['Jazz']);
      },
      now: () => t,
      windowMs: 1_000,
      ttlMs: 60_000,
      waitMs: 5,
    });
    expect(await popular('g')).toEqual(['Jazz']);
    t += 59_000;
    expect(await popular('g')).toEqual(['Jazz']);
    t += 2_000;
    expect(await popular('g')).toEqual(['Jazz']);
    expect(loads).toEqual([
      ['g', 999_000],
      ['g', 1_060_000],
    ]);
    expect(await popular('slow')).toEqual([]);
    expect(await popular('down')).toEqual([]);
  });
});

describe('cleanLyrics', () => {
  it('drops code fences and extra blank lines, and shortens only at whole lines', () => {
    expect(cleanLyrics('```\n[Verse]\nOne\n\n\n\nTwo\n```', 100)).toEqual({
      lyrics: '[Verse]\nOne\n\nTwo',
      shortened: false,
    });
    expect(cleanLyrics('aaaa\nbbbb\ncccc', 10)).toEqual({ lyrics: 'aaaa\nbbbb', shortened: true });
  });

  it('leaves room for the style in the provider prompt', () => {
    expect(lyricsBudget(null)).toBe(1940);
    expect(lyricsBudget('x'.repeat(100))).toBe(1840);
  });
});

describe('lyrics configuration', () => {
  it('takes a model name and a credit rate, and refuses nonsense', () => {
    const base = { DISCORD_TOKEN: 't', AIML_API_KEY: 'k' };
    expect(loadConfig({ ...base, AIML_LYRICS_MODEL: 'openai/gpt-4.1-mini' }).AIML_LYRICS_MODEL).toBe(
      'openai/gpt-4.1-mini',
    );
    expect(() => loadConfig({ ...base, AIML_LYRICS_MODEL: 'no spaces allowed' })).toThrow(
      'AIML_LYRICS_MODEL must be a model name such as gpt-4o-mini',
    );
    expect(() => loadConfig({ ...base, AIML_LYRICS_CREDITS_PER_TOKEN: '-1' })).toThrow(
      'AIML_LYRICS_CREDITS_PER_TOKEN must be 0 or more',
    );
  });
});
