import { describe, expect, it } from 'vitest';
import {
  checkRequest,
  matchBlockedWord,
  normalizeBlockedWord,
  type RequestCheck,
  type UsageSnapshot,
} from '../../src/limits/policy.js';
import {
  DEFAULT_SETTINGS,
  resolveSettings,
  validateSettingsChange,
  type GuildSettings,
} from '../../src/domain/settings.js';
import { nextUtcMidnight, nextUtcMonth, utcDayStart, utcMonthStart } from '../../src/limits/time.js';

const now = Date.UTC(2026, 10, 24, 15, 30); // 2026-11-24 15:30 UTC
const idle: UsageSnapshot = {
  userToday: 0,
  guildToday: 0,
  guildCreditsThisMonth: 0,
  userLastRequestAt: null,
  guildInFlight: 0,
};

function check(
  settings: Partial<GuildSettings>,
  usage: Partial<UsageSnapshot> = {},
  extra: Partial<RequestCheck> = {},
) {
  return checkRequest({
    settings: { ...DEFAULT_SETTINGS, ...settings },
    usage: { ...idle, ...usage },
    request: { prompt: 'calm piano', lengthSeconds: 30 },
    memberRoleIds: [],
    blockedWords: [],
    now,
    ...extra,
  });
}

describe('checkRequest', () => {
  it('allows a request under every default limit', () => {
    expect(check({})).toEqual({ allowed: true, queued: false });
  });

  it('refuses past the per-member daily count and names the UTC midnight reset', () => {
    const decision = check({}, { userToday: 25 });
    expect(decision).toEqual({
      allowed: false,
      limit: 'user-daily',
      message: `You have used all 25 of your tracks for today on this server; the count resets <t:${Date.UTC(2026, 10, 25) / 1000}:R>.`,
      resetsAt: Date.UTC(2026, 10, 25),
    });
  });

  it('has no server daily cap until one is set, then enforces it', () => {
    expect(check({}, { guildToday: 10_000 }).allowed).toBe(true);
    expect(check({ guildDaily: 100 }, { guildToday: 100 })).toMatchObject({
      allowed: false,
      limit: 'guild-daily',
    });
  });

  it('enforces the cooldown from the last request and says when the member may ask again', () => {
    const decision = check({ cooldownSeconds: 60 }, { userLastRequestAt: now - 15_000 });
    expect(decision).toMatchObject({ allowed: false, limit: 'cooldown', resetsAt: now + 45_000 });
    expect(check({ cooldownSeconds: 60 }, { userLastRequestAt: now - 60_000 }).allowed).toBe(true);
  });

  it('stops a server at its monthly credits, renewing on the 1st (UTC)', () => {
    expect(check({ monthlyCredits: 5_000 }, { guildCreditsThisMonth: 5_000 })).toMatchObject({
      allowed: false,
      limit: 'monthly-credits',
      resetsAt: Date.UTC(2026, 11, 1),
    });
  });

  it('refuses a length over the server maximum', () => {
    expect(check({ maxLengthSeconds: 20 })).toMatchObject({
      allowed: false,
      limit: 'max-length',
      message: 'This server allows tracks of up to 20 seconds; you asked for 30.',
    });
  });

  it('lets the exempt role skip per-member limits only', () => {
    const exempt = { memberRoleIds: ['500000000000000001'] };
    const settings = {
      exemptRoleId: '500000000000000001',
      userDaily: 1,
      cooldownSeconds: 600,
      guildDaily: 5,
    };
    expect(check(settings, { userToday: 1, userLastRequestAt: now }, exempt).allowed).toBe(true);
    expect(check(settings, { guildToday: 5 }, exempt)).toMatchObject({
      allowed: false,
      limit: 'guild-daily',
    });
    expect(check(settings, { userToday: 1 })).toMatchObject({ allowed: false, limit: 'user-daily' });
  });

  it('queues instead of refusing when the server is at its concurrency', () => {
    expect(check({ concurrent: 2 }, { guildInFlight: 2 })).toEqual({ allowed: true, queued: true });
  });

  it('refuses a prompt with a blocked word and names it', () => {
    const decision = check(
      {},
      {},
      { request: { prompt: 'Some CAFÉ jazz', lengthSeconds: 30 }, blockedWords: ['cafe'] },
    );
    expect(decision).toMatchObject({ allowed: false, limit: 'blocked-word' });
    expect(!decision.allowed && decision.message).toBe(
      'This server does not allow the word "cafe" in prompts. Reword the prompt and try again.',
    );
  });
});

describe('blocked words', () => {
  it('match case- and accent-insensitively, on word boundaries, phrases included', () => {
    expect(matchBlockedWord('Café au lait', ['CAFE'])).toBe('CAFE');
    expect(matchBlockedWord('a class act', ['ass'])).toBeUndefined();
    expect(matchBlockedWord('ass-kicking riff', ['ass'])).toBe('ass');
    expect(matchBlockedWord('death   metal', ['death metal'])).toBe('death metal');
    expect(matchBlockedWord('deathmetal', ['death metal'])).toBeUndefined();
    expect(matchBlockedWord('naïve melody', ['naive'])).toBe('naive');
    expect(matchBlockedWord('c++ (loud)', ['c++'])).toBe('c++');
  });

  it('are normalized and validated before they are stored', () => {
    expect(normalizeBlockedWord('  Crème   Brûlée ')).toEqual({ ok: true, word: 'creme brulee' });
    expect(normalizeBlockedWord('   ')).toMatchObject({ ok: false });
    expect(normalizeBlockedWord('x'.repeat(51))).toEqual({
      ok: false,
      problem: 'The word is 51 characters; the limit is 50.',
    });
    expect(normalizeBlockedWord(42)).toMatchObject({ ok: false });
  });
});

describe('settings', () => {
  it('read null as the default and 0 as "no cap" where 0 is allowed', () => {
    expect(resolveSettings(undefined)).toEqual(DEFAULT_SETTINGS);
    expect(
      resolveSettings({ userDaily: 0, guildDaily: 40, monthlyCredits: 0, cooldownSeconds: 0 }),
    ).toMatchObject({
      userDaily: null,
      guildDaily: 40,
      monthlyCredits: null,
      cooldownSeconds: 0,
    });
  });

  it('validate every value and the combination they make', () => {
    expect(
      validateSettingsChange(DEFAULT_SETTINGS, { maxLengthSeconds: 500, concurrent: 0, userDaily: 2.5 }),
    ).toEqual([
      'max-length must be a whole number from 10 to 300 seconds; got 500.',
      'user-daily must be a whole number from 0 to 1,000 (0 = no cap); got 2.5.',
      'concurrent must be a whole number from 1 to 50; got 0.',
    ]);
    expect(validateSettingsChange(DEFAULT_SETTINGS, { maxLengthSeconds: 20 })).toEqual([
      'default-length (30 s) cannot be longer than max-length (20 s).',
    ]);
    expect(
      validateSettingsChange(DEFAULT_SETTINGS, { maxLengthSeconds: 20, defaultLengthSeconds: 20 }),
    ).toEqual([]);
    expect(validateSettingsChange(DEFAULT_SETTINGS, { exemptRoleId: 'everyone' })).toEqual([
      'exempt-role must be a role of this server.',
    ]);
  });
});

describe('UTC periods', () => {
  it('start and end days and months in UTC', () => {
    expect(utcDayStart(now)).toBe(Date.UTC(2026, 10, 24));
    expect(nextUtcMidnight(now)).toBe(Date.UTC(2026, 10, 25));
    expect(utcMonthStart(now)).toBe(Date.UTC(2026, 10, 1));
    expect(nextUtcMonth(Date.UTC(2026, 11, 31, 23, 59))).toBe(Date.UTC(2027, 0, 1));
  });
});
