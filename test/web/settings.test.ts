import { ApplicationCommandOptionType } from 'discord.js';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Harness } from '../support/harness.js';
import {
  GUILD,
  launchChromium,
  type ElementLike,
  people,
  signIn,
  startWebHarness,
  webUrl,
} from './support.js';

let h: Harness;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  [h, browser] = await Promise.all([startWebHarness(), launchChromium()]);
  context = await browser.newContext();
  page = await signIn(h, context, people.mod.id);
});
afterAll(async () => {
  await context.close();
  await browser.close();
  await h.close();
});
beforeEach(async () => {
  await page.goto(`${webUrl(h)}/servers/${GUILD}/settings`);
});

const changes = () => h.app.database.db.selectFrom('settings_changes').selectAll().orderBy('id').execute();
const settingsRow = () =>
  h.app.database.db.selectFrom('guild_settings').selectAll().where('guild_id', '=', GUILD).executeTakeFirst();

/** /music in Discord and the private answer it got. */
async function musicAnswer(prompt: string, length: number): Promise<string> {
  const interaction = h.discord.chatInput({
    name: 'music',
    user: people.member,
    options: [
      { name: 'prompt', type: ApplicationCommandOptionType.String, value: prompt },
      { name: 'length', type: ApplicationCommandOptionType.Integer, value: length },
    ],
  });
  const callback = await h.discord.waitForRequest((r) =>
    r.path.startsWith(`/interactions/${interaction.id}/`),
  );
  return (callback.body as { data?: { content?: string } }).data?.content ?? '';
}

describe('settings on the web', () => {
  it('shows every setting under its slash-command option name, holding the current value', async () => {
    const fields = await page
      .locator('form[action$="/settings"] input[type="number"]')
      .evaluateAll((inputs) =>
        inputs.map((node) => {
          const input = node as unknown as ElementLike;
          return [input.getAttribute('name'), input.value];
        }),
      );
    expect(fields).toEqual([
      ['max-length', '300'],
      ['default-length', '30'],
      ['user-daily', '25'],
      ['guild-daily', '0'],
      ['cooldown', '0'],
      ['concurrent', '10'],
      ['monthly-credits', '0'],
      ['lyrics-daily', '20'],
    ]);
    // Every field has a label a screen reader announces.
    await expect(page.getByLabel('Longest track max-length').count()).resolves.toBe(1);
  });

  it('a moderator changes a setting; it is audited as a web change and /music in Discord obeys it at once', async () => {
    await page.getByLabel('Longest track max-length').fill('20');
    await page.getByLabel('Default length default-length').fill('15');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.waitForURL(/\/settings\?saved=2$/);
    await expect(page.getByRole('status').textContent()).resolves.toContain('Saved.');
    await expect(page.getByLabel('Longest track max-length').inputValue()).resolves.toBe('20');
    const audit = await changes();
    expect(audit.map((c) => [c.setting, c.old_value, c.new_value, c.user_id, c.source])).toEqual([
      ['maxLengthSeconds', '300 s', '20 s', people.mod.id, 'web'],
      ['defaultLengthSeconds', '30 s', '15 s', people.mod.id, 'web'],
    ]);
    await expect(page.locator('table').first().innerText()).resolves.toContain('(on the web)');

    expect(await musicAnswer('a long ambient piece', 60)).toBe(
      'This server allows tracks of up to 20 seconds; you asked for 60.',
    );
  });

  it('a bad value gets the same message as the slash command and changes nothing', async () => {
    const before = await settingsRow();
    const auditBefore = (await changes()).length;
    await page.getByLabel('Longest track max-length').fill('10');
    await page.getByLabel('Default length default-length').fill('100');
    // The browser's own min/max check would stop the form first; the server must hold too.
    await page.locator('form[action$="/settings"]').evaluate((form) => {
      (form as unknown as ElementLike).setAttribute('novalidate', '');
    });
    await page.getByRole('button', { name: 'Save settings' }).click();
    await page.waitForLoadState();
    const alert = await page.getByRole('alert').innerText();
    expect(alert).toContain('Nothing was changed:');
    expect(alert).toContain('default-length (100 s) cannot be longer than max-length (10 s).');
    expect(await settingsRow()).toEqual(before);
    expect((await changes()).length).toBe(auditBefore);
  });

  it('blocked words are added and removed from the page, and /music refuses them', async () => {
    await page.getByLabel('Block a word or phrase').fill('Kazoo');
    await page.getByRole('button', { name: 'Block', exact: true }).click();
    await page.waitForURL(/saved=1$/);
    await expect(page.locator('.words li span').allTextContents()).resolves.toEqual(['kazoo']);
    expect(await musicAnswer('a kazoo solo', 10)).toContain('kazoo');
    await page.getByRole('button', { name: 'Allow kazoo again' }).click();
    await page.waitForURL(/saved=1$/);
    await expect(page.locator('.words li').count()).resolves.toBe(0);
  });

  it('a form without its CSRF token, or with a forged one, changes nothing', async () => {
    const before = await settingsRow();
    const auditBefore = (await changes()).length;
    for (const tamper of ['remove', 'forge'] as const) {
      await page.goto(`${webUrl(h)}/servers/${GUILD}/settings`);
      await page.getByLabel('Tracks per member per day user-daily').fill('1');
      await page.locator('form[action$="/settings"] input[name="_csrf"]').evaluate((node, how) => {
        const input = node as unknown as ElementLike;
        if (how === 'remove') input.remove();
        else input.setAttribute('value', 'forged-token-from-another-site');
      }, tamper);
      await page.getByRole('button', { name: 'Save settings' }).click();
      await page.waitForLoadState();
      await expect(page.locator('h1').textContent()).resolves.toBe('Form expired');
    }
    // A token from another signed-in browser does not fit this one's secret either.
    const other = await browser.newContext();
    const otherPage = await signIn(h, other, people.mod.id);
    await otherPage.goto(`${webUrl(h)}/servers/${GUILD}/settings`);
    const otherToken = await otherPage.locator('input[name="_csrf"]').first().getAttribute('value');
    await other.close();
    const posted = await context.request.post(`${webUrl(h)}/servers/${GUILD}/settings`, {
      form: { _csrf: otherToken ?? '', 'user-daily': '1' },
      maxRedirects: 0,
    });
    expect(posted.status()).toBe(403);
    expect(await settingsRow()).toEqual(before);
    expect((await changes()).length).toBe(auditBefore);
  });
});
