import { seedTracks } from '../test/support/seed-tracks.js';
import { GUILD, launchChromium, people, signIn, startWebHarness, webUrl } from '../test/web/support.js';

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

/**
 * The gallery's first page for a server with `tracks` tracks, in Chromium at a desktop size: bytes
 * and requests of the first load (players load nothing until pressed; pictures below the fold wait
 * for a scroll), the same after scrolling to the end, and the server's time for the page over
 * `samples` requests in a row (signed in, member lookups cached as in use). The baseline is the
 * same page of a server with 20 tracks: the page costs what it shows, not what the server holds.
 */
export async function webGalleryBench(options: { sizes: number[]; samples: number }): Promise<object[]> {
  const rows: object[] = [];
  const browser = await launchChromium();
  try {
    for (const tracks of options.sizes) {
      const h = await startWebHarness({ webLimits: { signInPerMinute: 1000, postsPerMinute: 1000 } });
      try {
        await seedTracks(h.app.database.db, {
          guildId: GUILD,
          channelId: '100000000000000002',
          users: [people.mod.id, people.member.id],
          count: tracks,
        });
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        await signIn(h, context, people.member.id);
        const page = await context.newPage();
        const loads: { url: string; bytes: number }[] = [];
        page.on('requestfinished', (request) => {
          void request.sizes().then((sizes) => {
            loads.push({ url: request.url(), bytes: sizes.responseBodySize + sizes.responseHeadersSize });
          });
        });
        const url = `${webUrl(h)}/servers/${GUILD}`;
        await page.goto(url, { waitUntil: 'networkidle' });
        const first = [...loads];
        await page.evaluate(() => {
          const g = globalThis as unknown as {
            scrollTo(x: number, y: number): void;
            document: { body: { scrollHeight: number } };
          };
          g.scrollTo(0, g.document.body.scrollHeight);
        });
        await page.waitForLoadState('networkidle');
        await page.waitForFunction(() => true);
        const all = [...loads];
        const cookies = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
        const times: number[] = [];
        for (let i = 0; i < options.samples + 10; i++) {
          const started = performance.now();
          const response = await fetch(url, { headers: { cookie: cookies } });
          await response.arrayBuffer();
          if (response.status !== 200) throw new Error(`gallery answered ${response.status}`);
          if (i >= 10) times.push(performance.now() - started);
        }
        times.sort((a, b) => a - b);
        const sum = (list: { bytes: number }[]) => list.reduce((total, l) => total + l.bytes, 0);
        rows.push({
          tracks,
          firstLoadRequests: first.length,
          firstLoadKiB: Math.round(sum(first) / 102.4) / 10,
          scrolledRequests: all.length,
          scrolledKiB: Math.round(sum(all) / 102.4) / 10,
          htmlKiB: Math.round((first.find((l) => l.url === url)?.bytes ?? 0) / 102.4) / 10,
          serverP50Ms: Math.round(percentile(times, 50) * 10) / 10,
          serverP95Ms: Math.round(percentile(times, 95) * 10) / 10,
        });
        await context.close();
      } finally {
        await h.close();
      }
    }
  } finally {
    await browser.close();
  }
  return rows;
}
