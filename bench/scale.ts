import { FakeAiml } from '../test/fakes/aiml.js';
import { makeMp3 } from '../test/fakes/mp3.js';
import { forkChild } from './fixtures.js';
import { sleep } from './support.js';

/**
 * Scale of tracking: `jobs` generations in flight at once, all finishing at the same moment. For
 * each tracker, in a process of its own: peak RSS, CPU time per status check while tracking, the
 * checks it sent, and the time from the moment they all finished until the last was seen.
 */
export interface ScaleRow {
  variant: string;
  jobs: number;
  gets: number;
  peakRssMiB: number;
  cpuUsPerPoll: number;
  drainS: number;
}

interface Figures {
  detected: number;
  lastDetectedAt: number;
  trackingCpuMs: number;
  clientCountedPolls: number;
  peakRssMiB: number;
}

const audio = makeMp3({ seconds: 10 });

async function measure(
  variant: string,
  label: string,
  jobs: number,
  scale: number,
  env: Record<string, string> = {},
) {
  const aiml = await FakeAiml.start({ generationMs: 10_000_000, queuedMs: 0 });
  for (let i = 0; i < jobs; i++) aiml.script({ audio });
  const child = await forkChild('./tracking-process.ts', {
    DISCORD_TOKEN: 'unused',
    AIML_API_KEY: aiml.apiKey,
    AIML_API_URL: aiml.baseUrl,
    BENCH_JOBS: String(jobs),
    BENCH_SCALE: String(scale),
    BENCH_VARIANT: variant,
    ...env,
  });
  try {
    const running = child.ask<Figures>('run');
    while (aiml.requests.filter((r) => r.route === 'create').length < jobs) await sleep(100);
    // Let tracking settle into its steady rhythm, then finish every job at once.
    await sleep(20_000 * scale);
    const finishedAt = Date.now();
    for (const id of aiml.jobs.keys()) aiml.completeNow(id);
    const figures = await running;
    const gets = aiml.requests.filter((r) => r.route === 'poll').length;
    const row: ScaleRow = {
      variant: label,
      jobs: figures.detected,
      gets,
      peakRssMiB: figures.peakRssMiB,
      cpuUsPerPoll: (figures.trackingCpuMs * 1000) / gets,
      drainS: (figures.lastDetectedAt - finishedAt) / scale / 1000,
    };
    return row;
  } finally {
    await child.stop();
    await aiml.close();
  }
}

export async function scaleBench(jobs: number, scale: number, pollRateLimit: number): Promise<ScaleRow[]> {
  return [
    await measure('reference', 'reference client: a 10 s timer per job', jobs, scale),
    await measure('tracksmith', 'tracksmith: one heap, one timer', jobs, scale),
    await measure('tracksmith', `tracksmith, POLL_RATE_LIMIT=${pollRateLimit}/s`, jobs, scale, {
      POLL_RATE_LIMIT: String(pollRateLimit / scale),
    }),
  ];
}
