import { makeMp3 } from '../test/fakes/mp3.js';
import { isFinalEdit, musicFrom, startBotProcess } from './fixtures.js';
import { sleep } from './support.js';

/**
 * Delivery throughput: `jobs` tracks of 1 to 8 MiB finish at once; each is downloaded from the
 * fake CDN and uploaded to the fake Discord by the bot in its own process. Deliveries per second
 * (first final edit to last) and the bot's peak RSS, with deliveries bounded (the default, 8 at
 * once) and effectively unbounded (the baseline: every finished track downloaded at once).
 */
export interface DeliveryRow {
  variant: string;
  jobs: number;
  mib: number;
  deliveriesPerS: number;
  peakRssMiB: number;
}

const guildCount = 40;

/** An mp3 of about `mib` MiB at 320 kb/s. */
function mp3OfSize(mib: number): Buffer {
  return makeMp3({ seconds: (mib * 1024 * 1024) / 40_000, bitrateKbps: 320, tone: false });
}

async function measure(label: string, maxDeliveries: number, files: Buffer[], jobs: number, scale: number) {
  const run = await startBotProcess({
    guildCount,
    scale,
    env: { MAX_CONCURRENT_DELIVERIES: String(maxDeliveries) },
    aiml: { generationMs: 10_000_000, queuedMs: 0 },
  });
  try {
    for (let i = 0; i < jobs; i++)
      run.aiml.script({ audio: files[i % files.length] ?? files[0] ?? Buffer.alloc(0) });
    const sent = Array.from({ length: jobs }, (_, n) => musicFrom(run, n, guildCount, `delivery ${n}`, 60));
    while (run.aiml.requests.filter((r) => r.route === 'create').length < jobs) await sleep(50);
    await sleep(500);
    for (const id of run.aiml.jobs.keys()) run.aiml.completeNow(id);
    const finals = await Promise.all(
      sent.map((s) => run.discord.waitForRequest(isFinalEdit(s.token), 300_000)),
    );
    const times = finals.map((f) => f.at);
    const bytes = finals.reduce((sum, f) => sum + (f.files[0]?.data.length ?? 0), 0);
    const { peakRssMiB } = await run.child.report();
    const row: DeliveryRow = {
      variant: label,
      jobs: finals.filter((f) => f.files.length === 1).length,
      mib: bytes / 1024 / 1024,
      deliveriesPerS: (jobs - 1) / ((Math.max(...times) - Math.min(...times)) / 1000),
      peakRssMiB,
    };
    return row;
  } finally {
    await run.close();
  }
}

export async function deliveryBench(jobs: number, scale: number): Promise<DeliveryRow[]> {
  const files = [1, 2, 3, 4, 5, 6, 7, 8].map(mp3OfSize);
  return [
    await measure('every finished track at once (MAX_CONCURRENT_DELIVERIES=256)', 256, files, jobs, scale),
    await measure('tracksmith default (MAX_CONCURRENT_DELIVERIES=8)', 8, files, jobs, scale),
  ];
}
