/**
 * Tracks BENCH_JOBS generations at once in a process of its own, so its memory and CPU can be
 * read apart from the fake provider's. BENCH_VARIANT: `tracksmith` (the real client and Tracker,
 * production schedule scaled by BENCH_SCALE, optional POLL_RATE_LIMIT) or `reference` (the
 * documented 10 s loop, scaled). Sends `ready`, then on `run` submits and tracks everything and
 * answers with its figures.
 */
import pLimit from 'p-limit';
import { createAimlClient } from '../src/aiml/client.js';
import { loadConfig } from '../src/config.js';
import { systemClock } from '../src/generation/ports.js';
import { defaultSchedule } from '../src/generation/schedule.js';
import { Tracker } from '../src/generation/tracker.js';
import { createLogger } from '../src/log.js';
import { referenceSubmit, referenceWatch } from './reference-client.js';

const config = loadConfig(process.env);
const jobs = Number(process.env.BENCH_JOBS ?? '5000');
const scale = Number(process.env.BENCH_SCALE ?? '1');
const variant = process.env.BENCH_VARIANT ?? 'tracksmith';
const logger = createLogger('silent');

let peakRss = process.memoryUsage().rss;
setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20).unref();

async function run() {
  // Submissions go 64 at a time in both variants: the bench compares tracking, not submitting.
  const submitting = pLimit(64);
  let polls = 0;
  const detected: number[] = [];
  const prompts = Array.from({ length: jobs }, (_, i) => ({ prompt: `scale ${i}`, music_length_ms: 30_000 }));
  let cpuAtStart: NodeJS.CpuUsage;

  if (variant === 'reference') {
    const ids = await Promise.all(
      prompts.map((body) =>
        submitting(() => referenceSubmit(config.AIML_API_URL, config.AIML_API_KEY, body)),
      ),
    );
    cpuAtStart = process.cpuUsage();
    await Promise.all(
      ids.map((id) =>
        referenceWatch(config.AIML_API_URL, config.AIML_API_KEY, id, 10_000 * scale).then((r) => {
          detected.push(r.detectedAt);
        }),
      ),
    );
  } else {
    const client = createAimlClient({ baseUrl: config.AIML_API_URL, apiKey: config.AIML_API_KEY, logger });
    const counted = {
      create: (request: Parameters<typeof client.create>[0]) => client.create(request),
      poll: (id: string) => {
        polls++;
        return client.poll(id);
      },
    };
    const tracker = new Tracker({
      provider: counted,
      clock: systemClock,
      logger,
      schedule: {
        ...defaultSchedule,
        firstPollMs: defaultSchedule.firstPollMs * scale,
        minIntervalMs: defaultSchedule.minIntervalMs * scale,
        maxIntervalMs: defaultSchedule.maxIntervalMs * scale,
        targetLagMs: defaultSchedule.targetLagMs * scale,
        minGapMs: defaultSchedule.minGapMs * scale,
      },
      timeoutMs: 600_000,
      maxConcurrentPolls: 32,
      ...(config.POLL_RATE_LIMIT === undefined ? {} : { pollRateLimit: config.POLL_RATE_LIMIT }),
    });
    const ids = await Promise.all(
      prompts.map((body) =>
        submitting(() => client.create({ prompt: body.prompt, lengthSeconds: body.music_length_ms / 1000 })),
      ),
    );
    cpuAtStart = process.cpuUsage();
    await Promise.all(
      ids.map(({ generationId }) =>
        tracker.track(generationId, logger).then((result) => {
          if (result.kind === 'completed') detected.push(Date.now());
        }),
      ),
    );
  }
  const cpu = process.cpuUsage(cpuAtStart);
  return {
    detected: detected.length,
    lastDetectedAt: Math.max(...detected),
    trackingCpuMs: (cpu.user + cpu.system) / 1000,
    clientCountedPolls: polls,
    peakRssMiB: peakRss / 1024 / 1024,
  };
}

process.on('message', (message: unknown) => {
  if (message === 'run') {
    void run().then((figures) => process.send?.(figures));
  } else if (message === 'stop') {
    process.exit(0);
  } else if (message === 'report') {
    process.send?.({ peakRssMiB: peakRss / 1024 / 1024, cpuMs: 0 });
  }
});
process.send?.('ready');
