/**
 * `npm run screenshots`: the gallery and a track page at phone and desktop sizes, in Chromium,
 * against the bot between the fakes (the same set-up as the browser tests). Writes
 * docs/screenshots/*.png.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { seedTracks } from '../support/seed-tracks.js';
import {
  GUILD,
  launchChromium,
  makeTrack,
  people,
  remixTrack,
  signIn,
  startWebHarness,
  webUrl,
} from '../web/support.js';

const out = join(import.meta.dirname, '..', '..', 'docs', 'screenshots');
await mkdir(out, { recursive: true });
const h = await startWebHarness();
const browser = await launchChromium();
try {
  await seedTracks(h.app.database.db, {
    guildId: GUILD,
    channelId: '100000000000000002',
    users: [people.mod.id, people.member.id],
    count: 12,
    start: Date.now() - 3 * 86_400_000,
  });
  const first = await makeTrack(h, people.member, 'Dreamy synthwave with a slow build and a soaring lead');
  await makeTrack(h, people.mod, 'Jazz trio in a smoky club: upright bass, brushes, a wandering piano');
  await remixTrack(h, people.mod, first, 'The same synthwave, with a choir and a half-time drop');
  const sizes = [
    { name: 'phone', viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 },
    { name: 'desktop', viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 },
  ];
  for (const size of sizes) {
    const context = await browser.newContext({
      viewport: size.viewport,
      deviceScaleFactor: size.deviceScaleFactor,
    });
    const page = await signIn(h, context, people.mod.id);
    await page.goto(`${webUrl(h)}/servers/${GUILD}`);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: join(out, `gallery-${size.name}.png`) });
    await page.goto(`${webUrl(h)}/servers/${GUILD}/tracks/15`);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: join(out, `track-${size.name}.png`), fullPage: true });
    await context.close();
  }
  console.log(`screenshots written to ${out}`);
} finally {
  await browser.close();
  await h.close();
}
