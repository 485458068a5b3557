import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMessage } from '../fakes/discord.js';
import type { Harness } from '../support/harness.js';
import {
  GUILD,
  launchChromium,
  type AudioLike,
  type ImageLike,
  makeTrack,
  people,
  remixTrack,
  signIn,
  startWebHarness,
  webUrl,
} from './support.js';

const MARKUP = `<script>document.title='pwned'</script><img src=x id=injected> & "quoted" 'too'`;

let h: Harness;
let browser: Browser;
let context: BrowserContext;
const tracks: FakeMessage[] = [];

beforeAll(async () => {
  [h, browser] = await Promise.all([startWebHarness(), launchChromium()]);
  // #1 by a member, #2 a remix of it by the moderator, #3 a remix of #2, #4 a prompt holding markup.
  tracks.push(await makeTrack(h, people.member, 'dreamy synthwave with a slow build'));
  tracks.push(await remixTrack(h, people.mod, tracks[0]!, 'the same, with a choir'));
  tracks.push(await remixTrack(h, people.member, tracks[1]!, 'the choir, slowed down'));
  tracks.push(await makeTrack(h, people.member, MARKUP));
  context = await browser.newContext();
});

afterAll(async () => {
  await context.close();
  await browser.close();
  await h.close();
});

const row = (n: number) =>
  h.app.database.db.selectFrom('usage').selectAll().where('track_number', '=', n).executeTakeFirstOrThrow();

describe('the gallery in Chromium', () => {
  it('a member signs in and sees the tracks made in Discord, newest first, with names and lineage', async () => {
    const page = await signIn(h, context, people.member.id);
    await expect(page.getByRole('link', { name: 'Synth Club' }).count()).resolves.toBe(1);
    await page.getByRole('link', { name: 'Synth Club' }).click();
    await page.waitForURL(`${webUrl(h)}/servers/${GUILD}`);
    const headings = await page.locator('.card h2').allTextContents();
    expect(headings).toEqual(['Track #4', 'Track #3', 'Track #2', 'Track #1']);
    const second = page.locator('.card').nth(2);
    await expect(second.locator('.prompt').textContent()).resolves.toBe('the same, with a choir');
    const text = (await second.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('Remix by Mira (mod)');
    await expect(second.getByRole('link', { name: '#1' }).getAttribute('href')).resolves.toBe(
      `/servers/${GUILD}/tracks/1`,
    );
    expect(text).toContain('Remix of #1 by beatbo');
    await page.close();
  });

  it('plays a track from the bot’s own origin: the duration matches the file, and seeking asks for a range', async () => {
    const page = await context.newPage();
    const audioResponses: { status: number; range: string | undefined; contentRange: string | null }[] = [];
    page.on('response', (response) => {
      if (!response.url().endsWith('/tracks/1/audio.mp3')) return;
      audioResponses.push({
        status: response.status(),
        range: response.request().headers().range,
        contentRange: response.headers()['content-range'] ?? null,
      });
    });
    await page.goto(`${webUrl(h)}/servers/${GUILD}/tracks/1`);
    const audio = page.locator('audio');
    await expect(audio.getAttribute('src')).resolves.toBe(`/servers/${GUILD}/tracks/1/audio.mp3`);
    // A click gives the page the user activation that lets it play sound.
    await page.locator('h1').click();
    const duration = await audio.evaluate(
      (node) =>
        new Promise<number>((resolve, reject) => {
          const el = node as unknown as AudioLike;
          el.addEventListener('loadedmetadata', () => resolve(el.duration), { once: true });
          el.addEventListener('error', () => reject(new Error(`audio error ${el.error?.code}`)), {
            once: true,
          });
          el.preload = 'auto';
          el.load();
        }),
    );
    const actual = (await row(1)).actual_seconds ?? 0;
    expect(actual).toBeGreaterThan(9);
    expect(Math.abs(duration - actual)).toBeLessThan(0.1);

    const played = await audio.evaluate(
      (node) =>
        new Promise<number>((resolve, reject) => {
          const el = node as unknown as AudioLike;
          el.addEventListener('timeupdate', function onTime() {
            if (el.currentTime > 0) {
              el.removeEventListener('timeupdate', onTime);
              el.pause();
              resolve(el.currentTime);
            }
          });
          el.play().catch(reject);
        }),
    );
    expect(played).toBeGreaterThan(0);

    // The player asks for ranges, and the bot answers them as ranges (206 with Content-Range).
    const first = audioResponses.find((r) => r.range !== undefined);
    expect(first?.range).toMatch(/^bytes=\d+-/);
    expect(first?.status).toBe(206);
    expect(first?.contentRange).toMatch(/^bytes \d+-\d+\/\d+$/);
    const target = actual * 0.8;
    const after = await audio.evaluate(
      (node, to: number) =>
        new Promise<number>((resolve) => {
          const el = node as unknown as AudioLike;
          el.addEventListener('seeked', () => resolve(el.currentTime), { once: true });
          el.currentTime = to;
        }),
      target,
    );
    expect(Math.abs(after - target)).toBeLessThan(0.1);
    // A seek into audio not yet fetched is a range from the middle of the file; that range reaches
    // Discord's CDN as asked, so the bot never holds the whole file.
    const file = h.discord.attachmentData(tracks[0]!.attachments[0]!.id)!;
    const middle = Math.floor(file.length * 0.8);
    const cdnBefore = h.discord.cdnRequests.length;
    const ranged = await page.request.get(`${webUrl(h)}/servers/${GUILD}/tracks/1/audio.mp3`, {
      headers: { Range: `bytes=${middle}-` },
    });
    expect(ranged.status()).toBe(206);
    expect(ranged.headers()['content-range']).toBe(`bytes ${middle}-${file.length - 1}/${file.length}`);
    expect((await ranged.body()).equals(file.subarray(middle))).toBe(true);
    expect(h.discord.cdnRequests.slice(cdnBefore)).toEqual([
      { attachmentId: tracks[0]!.attachments[0]!.id, range: `bytes=${middle}-`, status: 206 },
    ]);
    await page.close();
  });

  it('shows the waveform picture drawn from the decoded audio', async () => {
    const page = await context.newPage();
    await page.goto(`${webUrl(h)}/servers/${GUILD}`);
    const img = page.locator(`img[src="/servers/${GUILD}/tracks/2/waveform.png"]`);
    await img.scrollIntoViewIfNeeded();
    const size = () =>
      img.evaluate((node) => {
        const el = node as unknown as ImageLike;
        return el.complete ? [el.naturalWidth, el.naturalHeight] : [];
      });
    // Decoded by the browser: a broken picture would be complete with a natural size of 0.
    await expect.poll(size).toEqual([640, 120]);
    await expect(img.getAttribute('alt')).resolves.toBe('Waveform of track #2');
    await page.close();
  });

  it('a track page draws its whole family as a tree and links to its Discord message', async () => {
    const page = await context.newPage();
    await page.goto(`${webUrl(h)}/servers/${GUILD}/tracks/2`);
    const tree = page.getByRole('list', { name: 'Family tree' });
    // #1 at the root, #2 under it (this page), #3 under #2.
    await expect(tree.locator(':scope > li > .node a').textContent()).resolves.toBe('#1');
    await expect(tree.locator(':scope > li > ul > li > .node').getAttribute('aria-current')).resolves.toBe(
      'true',
    );
    await expect(tree.locator(':scope > li > ul > li > ul > li > .node a').textContent()).resolves.toBe('#3');
    await tree.getByRole('link', { name: '#3' }).click();
    await page.waitForURL(`${webUrl(h)}/servers/${GUILD}/tracks/3`);
    const discordLink = await page
      .getByRole('link', { name: 'Open the message in Discord' })
      .getAttribute('href');
    const third = tracks[2]!;
    expect(discordLink).toBe(`${h.discord.baseUrl}/channels/${GUILD}/${third.channel_id}/${third.id}`);
    await page.close();
  });

  it('a prompt holding markup is shown as text, and pages send a Content-Security-Policy', async () => {
    const page = await context.newPage();
    const response = await page.goto(`${webUrl(h)}/servers/${GUILD}/tracks/4`);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    await expect(page.locator('.prompt').textContent()).resolves.toBe(MARKUP);
    await expect(page.locator('#injected').count()).resolves.toBe(0);
    await expect(page.locator('script').count()).resolves.toBe(0);
    await expect(page.title()).resolves.not.toBe('pwned');
    await page.close();
  });

  it('audio keeps playing after Discord’s links expire: the bot asks Discord for a fresh one', async () => {
    h.discord.advanceCdnClock(25 * 3_600_000);
    const refreshes = () => h.discord.requests.filter((r) => r.path === '/attachments/refresh-urls').length;
    const refreshesBefore = refreshes();
    // The browser context's own request client: same cookies as the pages (the CSP keeps page
    // scripts from fetching at all).
    const answer = await context.request.get(`${webUrl(h)}/servers/${GUILD}/tracks/1/audio.mp3`, {
      headers: { Range: 'bytes=100-199' },
    });
    const file = h.discord.attachmentData(tracks[0]!.attachments[0]!.id)!;
    expect(answer.status()).toBe(206);
    expect(answer.headers()['content-type']).toBe('audio/mpeg');
    expect(answer.headers()['content-range']).toBe(`bytes 100-199/${file.length}`);
    expect((await answer.body()).equals(file.subarray(100, 200))).toBe(true);
    expect(refreshes()).toBeGreaterThan(refreshesBefore);
    // The link the message first carried no longer works at the CDN.
    const stale = await fetch(tracks[0]!.attachments[0]!.url);
    expect(stale.status).toBe(404);
  });
});
