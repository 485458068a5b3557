import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness } from '../support/harness.js';
import { utcDayStart } from '../../src/limits/time.js';
import { seedTracks } from '../support/seed-tracks.js';
import { GUILD, launchChromium, people, signIn, startWebHarness, webUrl } from './support.js';

let h: Harness;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  [h, browser] = await Promise.all([startWebHarness(), launchChromium()]);
  // 45 tracks: odd numbers by the member, even by the moderator.
  await seedTracks(h.app.database.db, {
    guildId: GUILD,
    channelId: '100000000000000002',
    users: [people.mod.id, people.member.id],
    count: 45,
    // From the start of today (UTC), so that the usage chart's last bar holds them all.
    start: utcDayStart(Date.now()),
  });
  context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  page = await signIn(h, context, people.member.id);
});
afterAll(async () => {
  await context.close();
  await browser.close();
  await h.close();
});

const numbers = async () =>
  (await page.locator('.card h2').allTextContents()).map((t) => Number(t.replace('Track #', '')));

describe('the gallery with many tracks', () => {
  it('pages newest first, twenty at a time, with links both ways', async () => {
    await page.goto(`${webUrl(h)}/servers/${GUILD}`);
    expect(await numbers()).toEqual(Array.from({ length: 20 }, (_, i) => 45 - i));
    await expect(page.locator('.pager').innerText()).resolves.toContain('Page 1 of 3');
    await page.getByRole('link', { name: 'Older →' }).click();
    expect(await numbers()).toEqual(Array.from({ length: 20 }, (_, i) => 25 - i));
    await page.getByRole('link', { name: 'Older →' }).click();
    expect(await numbers()).toEqual([5, 4, 3, 2, 1]);
    await expect(page.getByRole('link', { name: 'Older →' }).count()).resolves.toBe(0);
    await page.getByRole('link', { name: '← Newer' }).click();
    expect((await numbers())[0]).toBe(25);
  });

  it('filters by member, keeping the filter while paging', async () => {
    await page.goto(`${webUrl(h)}/servers/${GUILD}`);
    await page.getByLabel('Member').selectOption({ label: 'Mira (mod)' });
    await page.getByRole('button', { name: 'Show' }).click();
    await expect(page.locator('.meta').first().innerText()).resolves.toContain('22 tracks by Mira (mod)');
    expect(await numbers()).toEqual(Array.from({ length: 20 }, (_, i) => 44 - 2 * i));
    await page.getByRole('link', { name: 'Older →' }).click();
    expect(await numbers()).toEqual([4, 2]);
    // A page number past the end, or a member ID that is not one, shows an empty page, not an error.
    const far = await page.goto(`${webUrl(h)}/servers/${GUILD}?page=99&member=nonsense`);
    expect(far?.status()).toBe(200);
    await expect(page.locator('.card').count()).resolves.toBe(0);
  });

  it('the usage page charts tracks and credits a day for 30 days, and lists the top members', async () => {
    await page.goto(`${webUrl(h)}/servers/${GUILD}/usage`);
    const charts = page.locator('svg.chart');
    await expect(charts.count()).resolves.toBe(2);
    await expect(charts.first().locator('rect').count()).resolves.toBe(30);
    // The seeded tracks were made in the last hour: today's bar holds all 45.
    await expect(charts.first().locator('rect').last().locator('title').textContent()).resolves.toMatch(
      /: 45 tracks$/,
    );
    await expect(charts.nth(1).locator('rect').last().locator('title').textContent()).resolves.toMatch(
      /: 5,400 credits$/,
    );
    const top = await page.locator('table').first().locator('tbody tr').allInnerTexts();
    expect(top.map((row) => row.split('\t'))).toEqual([
      ['beatbo', '23', '2,760'],
      ['Mira (mod)', '22', '2,640'],
    ]);
  });

  it('a track whose message was deleted in Discord keeps its card but has no player or file', async () => {
    await h.app.database.db
      .updateTable('usage')
      .set({ deleted_at: Date.now(), deleted_by: people.mod.id })
      .where('guild_id', '=', GUILD)
      .where('track_number', '=', 45)
      .execute();
    await page.goto(`${webUrl(h)}/servers/${GUILD}/tracks/45`);
    await expect(page.locator('.card').innerText()).resolves.toContain('Its message was deleted in Discord');
    await expect(page.locator('audio').count()).resolves.toBe(0);
    const file = await context.request.get(`${webUrl(h)}/servers/${GUILD}/tracks/45/audio.mp3`);
    expect(file.status()).toBe(404);
  });

  it('reads well on a phone: nothing wider than the screen', async () => {
    await page.goto(`${webUrl(h)}/servers/${GUILD}`);
    const widths = await page.evaluate(() => {
      const root = (
        globalThis as unknown as {
          document: { documentElement: { scrollWidth: number; clientWidth: number } };
        }
      ).document.documentElement;
      return [root.scrollWidth, root.clientWidth];
    });
    expect(widths[0]).toBeLessThanOrEqual(widths[1] ?? 0);
  });
});
