import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Harness } from '../support/harness.js';
import {
  GUILD,
  launchChromium,
  makeTrack,
  OTHER_GUILD,
  people,
  signIn,
  startWebHarness,
  webUrl,
} from './support.js';

let h: Harness;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  [h, browser] = await Promise.all([startWebHarness(), launchChromium()]);
  await makeTrack(h, people.member, 'a track of Synth Club');
});
afterAll(async () => {
  await browser.close();
  await h.close();
});
beforeEach(async () => {
  context = await browser.newContext();
});
afterEach(async () => {
  await context.close();
});

const sessions = () => h.app.database.db.selectFrom('web_sessions').selectAll().execute();
const status = async (path: string) =>
  (await context.request.get(`${webUrl(h)}${path}`, { maxRedirects: 0 })).status();
const serverPaths = (guildId: string) => [
  `/servers/${guildId}`,
  `/servers/${guildId}/usage`,
  `/servers/${guildId}/settings`,
  `/servers/${guildId}/tracks/1`,
  `/servers/${guildId}/tracks/1/audio.mp3`,
  `/servers/${guildId}/tracks/1/waveform.png`,
];

describe('who may see what', () => {
  it('a non-member gets 404 on every page and file of the server, whatever their OAuth guild list claims', async () => {
    // The browser's (OAuth) list says the outsider is in Synth Club; the bot's own view says not.
    h.discord.claimGuilds(people.outsider.id, [GUILD, OTHER_GUILD]);
    const page = await signIn(h, context, people.outsider.id);
    await expect(page.locator('.card h2').allTextContents()).resolves.toEqual(['Elsewhere']);
    for (const path of serverPaths(GUILD)) expect([path, await status(path)]).toEqual([path, 404]);
    // Changing the ID in a URL to their own server finds nothing of the other's: numbers are per server.
    expect(await status(`/servers/${OTHER_GUILD}/tracks/1`)).toBe(404);
    expect(await status(`/servers/${OTHER_GUILD}`)).toBe(200);
    // A server the bot is not in: nothing, whatever the list claims.
    h.discord.claimGuilds(people.outsider.id, [GUILD, OTHER_GUILD, '100000000000000099']);
    for (const path of serverPaths('100000000000000099'))
      expect([path, await status(path)]).toEqual([path, 404]);
    const bad = await page.goto(`${webUrl(h)}/servers/${GUILD}`);
    expect(bad?.status()).toBe(404);
    await expect(page.locator('h1').textContent()).resolves.toBe('Not found');
  });

  it('a signed-out browser gets no audio, picture or page of a server', async () => {
    for (const path of serverPaths(GUILD)) {
      const code = await status(path);
      expect([path, code]).toEqual([path, path.endsWith('.mp3') || path.endsWith('.png') ? 404 : 303]);
    }
  });

  it('a member without Manage Server sees the gallery but gets 403 on settings, and no Settings tab', async () => {
    const page = await signIn(h, context, people.member.id);
    await page.goto(`${webUrl(h)}/servers/${GUILD}`);
    await expect(
      page.getByRole('navigation', { name: 'Server pages' }).getByRole('link').allTextContents(),
    ).resolves.toEqual(['Gallery', 'Usage']);
    const response = await page.goto(`${webUrl(h)}/servers/${GUILD}/settings`);
    expect(response?.status()).toBe(403);
    await expect(page.locator('main').textContent()).resolves.toContain('Manage Server');
    const post = await context.request.post(`${webUrl(h)}/servers/${GUILD}/settings`, {
      form: { 'user-daily': '1' },
    });
    expect([403, 404]).toContain(post.status());
    expect((await h.app.database.db.selectFrom('settings_changes').selectAll().execute()).length).toBe(0);
  });
});

describe('signing in', () => {
  it('a wrong, missing or other browser’s state creates no session', async () => {
    const before = (await sessions()).length;
    const page = await context.newPage();
    await page.goto(webUrl(h));
    const link = new URL(
      (await page.getByRole('link', { name: 'Sign in with Discord' }).getAttribute('href')) ?? '',
    );
    expect(link.searchParams.get('state')?.length).toBeGreaterThanOrEqual(8);
    expect(link.searchParams.get('redirect_uri')).toBe(`${webUrl(h)}/auth/callback`);
    expect(link.searchParams.get('scope')).toBe('identify guilds');
    expect(link.searchParams.get('client_id')).toBe(h.discord.applicationId);

    // Another browser's sign-in link, followed in this one.
    const other = await browser.newContext();
    const otherPage = await other.newPage();
    await otherPage.goto(webUrl(h));
    const otherLink =
      (await otherPage.getByRole('link', { name: 'Sign in with Discord' }).getAttribute('href')) ?? '';
    await other.close();

    const wrong = new URL(link);
    wrong.searchParams.set('state', 'not-the-state-this-browser-got');
    const missing = new URL(link);
    missing.searchParams.delete('state');
    for (const start of [wrong.toString(), missing.toString(), otherLink]) {
      await page.goto(webUrl(h)); // a fresh state cookie each time, as a real start would set
      await page.goto(start);
      await page.locator(`a[data-user="${people.member.id}"]`).click();
      await page.waitForURL(/\/auth\/callback/);
      await expect(page.locator('h1').textContent()).resolves.toBe('Sign-in not accepted');
    }
    expect((await sessions()).length).toBe(before);
    const servers = await page.goto(`${webUrl(h)}/servers`);
    expect(new URL(servers?.url() ?? '').pathname).toBe('/');
  });

  it('the session cookie is HttpOnly and SameSite=Lax, holds no Discord token, and signing out ends it', async () => {
    const page = await signIn(h, context, people.member.id);
    const cookie = (await context.cookies()).find((c) => c.name === 'ts_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', secure: false });
    const tokens = h.discord.issuedAccessTokens();
    expect(tokens.length).toBeGreaterThan(0);
    const stored = JSON.stringify(await sessions());
    for (const token of tokens) {
      expect(cookie?.value).not.toContain(token);
      expect(stored).not.toContain(token);
    }
    // Neither the client secret nor an access token reaches the logs.
    const logs = h.logs.text();
    expect(logs).toContain('signed in on the web');
    expect(logs).not.toContain(h.discord.clientSecret);
    for (const token of tokens) expect(logs).not.toContain(token);

    const count = (await sessions()).length;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${webUrl(h)}/`);
    expect((await sessions()).length).toBe(count - 1);
    // The old cookie, replayed, is worth nothing now.
    const replay = await browser.newContext();
    await replay.addCookies([{ ...cookie!, sameSite: 'Lax' }]);
    const again = await replay.request.get(`${webUrl(h)}/servers`, { maxRedirects: 0 });
    expect(again.status()).toBe(303);
    await replay.close();
  });

  it('sign-ins are rate-limited per address, with room for a few a minute', async () => {
    // A bot of its own, so that the sign-ins of the other tests do not count.
    const fresh = await startWebHarness();
    try {
      // Three sign-ins in a row are fine: the default allows 10 a minute.
      for (let i = 0; i < 3; i++) {
        const c = await browser.newContext();
        await signIn(fresh, c, people.member.id);
        await c.close();
      }
      const codes: number[] = [];
      for (let i = 0; i < 8; i++) {
        codes.push((await context.request.get(`${webUrl(fresh)}/auth/callback?code=x&state=y`)).status());
      }
      // 7 more tries reach the limit of 10; the 11th is refused without touching Discord.
      expect(codes).toEqual([400, 400, 400, 400, 400, 400, 400, 429]);
      expect(fresh.discord.requests.filter((r) => r.path === '/oauth2/token')).toHaveLength(3);
    } finally {
      await fresh.close();
    }
  });
});
