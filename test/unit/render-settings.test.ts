import { describe, expect, it } from 'vitest';
import {
  describeChange,
  renderBlockedWords,
  renderSettings,
  renderUsage,
} from '../../src/discord/render-settings.js';
import { resolveSettings, type SettingsChangeRecord } from '../../src/domain/settings.js';

const now = Date.UTC(2026, 10, 24, 15, 30); // 2026-11-24 15:30 UTC
const change = (overrides: Partial<SettingsChangeRecord> = {}): SettingsChangeRecord => ({
  userId: '200000000000000007',
  source: 'discord',
  setting: 'userDaily',
  oldValue: '25',
  newValue: '3',
  changedAt: now,
  ...overrides,
});

describe('render-settings', () => {
  it('lists every setting under its option name beside its default, with the blocked-word count', () => {
    const settings = resolveSettings({ userDaily: 3, guildDaily: 0, exemptRoleId: '300000000000000001' });
    const [embed, ...rest] = renderSettings({ settings, blockedWords: 2, changes: [] });
    expect(rest).toEqual([]);
    expect(embed?.title).toBe('Tracksmith settings');
    expect(embed?.description?.split('\n')).toEqual([
      '**max-length**: 300 s (default 300 s)',
      '**default-length**: 30 s (default 30 s)',
      '**user-daily**: 3 (default 25)',
      '**guild-daily**: no cap (default no cap)',
      '**cooldown**: 0 s (default 0 s)',
      '**concurrent**: 10 (default 10)',
      '**monthly-credits**: no cap (default no cap)',
      '**lyrics-daily**: 20 (default 20)',
      '**exempt-role**: <@&300000000000000001> (default none)',
      '**blocked-words**: 2',
    ]);
  });

  it('adds the recent changes, marking those made on the web', () => {
    const changes = [
      change({ source: 'web', setting: 'concurrent', oldValue: '10', newValue: '2' }),
      change(),
    ];
    const embeds = renderSettings({ settings: resolveSettings(undefined), blockedWords: 0, changes });
    expect(embeds[1]).toEqual({
      title: 'Recent changes',
      description: [
        `<t:${now / 1000}:R> <@200000000000000007> (on the web) **concurrent**: 10 → 2`,
        `<t:${now / 1000}:R> <@200000000000000007> **user-daily**: 25 → 3`,
      ].join('\n'),
    });
    expect(describeChange(change({ oldValue: null }))).toContain('**user-daily**: ? → 3');
  });

  it("shows the day's and month's use against the caps, and each member's allowance left", () => {
    const usage = renderUsage({
      now,
      settings: { guildDaily: 100, monthlyCredits: null, userDaily: 3 },
      tracksToday: 4,
      tracksMonth: 1234,
      creditsToday: 1200,
      creditsMonth: 56_000,
      top: [
        { userId: '200000000000000042', tracks: 1 },
        { userId: '200000000000000043', tracks: 5 },
      ],
    });
    const nextDay = Date.UTC(2026, 10, 25) / 1000;
    const nextMonth = Date.UTC(2026, 11, 1) / 1000;
    expect(usage).toEqual({
      title: 'Tracksmith usage',
      description: [
        `**Today**: 4 of 100 tracks, 1,200 credits; resets <t:${nextDay}:R>`,
        `**This month**: 1,234 tracks, 56,000 credits; resets <t:${nextMonth}:R>`,
        '',
        '**Members today**',
        '<@200000000000000042>: 1 (2 left)',
        '<@200000000000000043>: 5 (0 left)',
      ].join('\n'),
    });
    const uncapped = renderUsage({
      now,
      settings: { guildDaily: null, monthlyCredits: 5000, userDaily: null },
      tracksToday: 0,
      tracksMonth: 0,
      creditsToday: 0,
      creditsMonth: 0,
      top: [{ userId: '200000000000000042', tracks: 2 }],
    });
    expect(uncapped.description).toContain('**This month**: 0 tracks, 0 of 5,000 credits');
    expect(uncapped.description).toContain('<@200000000000000042>: 2 (no daily cap)');
  });

  it('lists blocked words, or says there are none', () => {
    expect(renderBlockedWords([])).toBe('No words are blocked.');
    expect(renderBlockedWords(['drill', 'eight bit'])).toBe('Blocked words (2): `drill`, `eight bit`');
  });
});
