import { describe, expect, it } from 'vitest';
import { decodeCustomId, encodeCustomId } from '../../src/discord/custom-id.js';
import { composePrompt, lengthFromText } from '../../src/generation/compose.js';

describe('composePrompt', () => {
  it('puts the lyrics under a heading after the style, and leaves a style alone', () => {
    expect(composePrompt({ style: ' folk ', lyrics: '\nla la\n' })).toEqual({
      ok: true,
      value: 'folk\n\nLyrics:\nla la',
    });
    expect(composePrompt({ style: 'folk', lyrics: '   ' })).toEqual({ ok: true, value: 'folk' });
  });

  it('counts the heading against the limit and says how much to cut', () => {
    // 1,982 + 10 (the heading) + 8 = 2,000 fits exactly; one more does not.
    expect(composePrompt({ style: 's'.repeat(1982), lyrics: 'l'.repeat(8) }).ok).toBe(true);
    expect(composePrompt({ style: 's'.repeat(1982), lyrics: 'l'.repeat(9) })).toEqual({
      ok: false,
      problems: [
        'The style (1,982 characters) and lyrics (9) come to 2,001 characters together; the limit is 2,000. Cut 1 character and try again.',
      ],
    });
    expect(composePrompt({ style: 's'.repeat(2001), lyrics: '' })).toEqual({
      ok: false,
      problems: ['The style is 2,001 characters; the limit is 2,000. Cut 1 character and try again.'],
    });
  });

  it('refuses a missing or blank style, whatever type a crafted form sends', () => {
    for (const style of ['', '   ', '\u200b\u2060\ufeff', undefined, 42]) {
      expect(composePrompt({ style, lyrics: 'words' }).ok).toBe(false);
    }
  });
});

describe('lengthFromText', () => {
  it('reads digits, treats blank as unset and passes anything else on for validation to name', () => {
    expect([' 45 ', '', '  ', 'ten', '4.5', undefined].map(lengthFromText)).toEqual([
      45,
      undefined,
      undefined,
      'ten',
      '4.5',
      undefined,
    ]);
  });
});

describe('custom IDs', () => {
  it('round-trips scope, action and argument', () => {
    const id = encodeCustomId('track', 'remix', '3f1c2d4e-0000-4000-8000-000000000001');
    expect(decodeCustomId(id)).toEqual({
      scope: 'track',
      action: 'remix',
      argument: '3f1c2d4e-0000-4000-8000-000000000001',
    });
    expect(decodeCustomId('compose:submit')).toEqual({
      scope: 'compose',
      action: 'submit',
      argument: undefined,
    });
  });

  it('rejects anything outside the pattern or over 100 characters', () => {
    for (const raw of [
      '',
      'track',
      'track:remix:a b',
      'TRACK:remix:x',
      `track:remix:${'a'.repeat(65)}`,
      'x'.repeat(101),
      7,
    ]) {
      expect(decodeCustomId(raw)).toBeUndefined();
    }
    expect(() => encodeCustomId('track', 'remix', 'not valid!')).toThrow(RangeError);
  });
});
