import { makeMp3 } from '../test/fakes/mp3.js';
import { FakeAiml } from '../test/fakes/aiml.js';
import { isFinalEdit, musicFrom, scaledOptions, startBot } from './fixtures.js';
import { referenceGenerate } from './reference-client.js';
import { mean, percentile, seeded } from './support.js';

/**
 * Detection lag: from the provider marking a job completed to the member seeing it (the final
 * Discord edit for the bot; the detecting GET for the reference client, which is kinder to it),
 * and the status checks each job cost. Jobs take (3 s + 0.2 s per second of music) ± 15%, as on
 * the real service, arrive in waves, and only waves after the first are measured, so the bot has
 * seen some before it is judged.
 */
export interface LagOptions {
  scale: number;
  waves: number;
  perWave: number;
  /** `POLL_RATE_LIMIT` for the budgeted run, in checks per service second. */
  pollRateLimit: number;
  seed: number;
}

export interface LagRow {
  variant: string;
  jobs: number;
  medianLagS: number;
  p90LagS: number;
  maxLagS: number;
  getsPerJob: number;
  getsVsBaseline: number;
}

interface Job {
  prompt: string;
  lengthSeconds: number;
  generationMs: number;
  wave: number;
}

function drawJobs(options: LagOptions): Job[] {
  const random = seeded(options.seed);
  const jobs: Job[] = [];
  for (let wave = 0; wave < options.waves; wave++) {
    for (let i = 0; i < options.perWave; i++) {
      const lengthSeconds = 10 + Math.floor(random() * 291);
      const noise = 1 + (random() * 2 - 1) * 0.15;
      jobs.push({
        prompt: `bench wave ${wave} job ${i}`,
        lengthSeconds,
        generationMs: (3_000 + 200 * lengthSeconds) * noise * options.scale,
        wave,
      });
    }
  }
  return jobs;
}

interface Measured {
  lagMs: number;
  gets: number;
  wave: number;
}

/** The provider's bill of checks for one generation. */
function getsFor(aiml: FakeAiml, generationId: string): number {
  return aiml.requests.filter((r) => r.route === 'poll' && r.query.get('generation_id') === generationId)
    .length;
}

function recordFor(aiml: FakeAiml, prompt: string) {
  const record = [...aiml.jobs.values()].find((j) => j.prompt === prompt);
  if (!record?.completedAt) throw new Error(`no completed provider job for "${prompt}"`);
  return { id: record.id, completedAt: record.completedAt };
}

const smallMp3 = makeMp3({ seconds: 10 });

async function runReference(jobs: Job[], options: LagOptions): Promise<Measured[]> {
  const byPrompt = new Map(jobs.map((j) => [j.prompt, j.generationMs]));
  const aiml = await FakeAiml.start({
    generationMs: (job) => byPrompt.get(job.prompt) ?? 1_000,
    queuedMs: 50 * options.scale,
  });
  const measured: Measured[] = [];
  try {
    for (let wave = 0; wave < options.waves; wave++) {
      const batch = jobs.filter((j) => j.wave === wave);
      for (let i = 0; i < batch.length; i++) aiml.script({ audio: smallMp3 });
      const results = await Promise.all(
        batch.map((job) =>
          referenceGenerate(
            aiml.baseUrl,
            aiml.apiKey,
            { prompt: job.prompt, music_length_ms: job.lengthSeconds * 1000 },
            10_000 * options.scale,
          ),
        ),
      );
      for (const [i, result] of results.entries()) {
        const job = batch[i];
        if (!job) continue;
        const { completedAt } = recordFor(aiml, job.prompt);
        measured.push({
          lagMs: result.detectedAt - completedAt,
          gets: getsFor(aiml, result.generationId),
          wave,
        });
      }
    }
  } finally {
    await aiml.close();
  }
  return measured;
}

async function runBot(
  jobs: Job[],
  options: LagOptions,
  variant: 'learned' | 'fixed' | 'budget',
): Promise<Measured[]> {
  const byPrompt = new Map(jobs.map((j) => [j.prompt, j.generationMs]));
  const guildCount = 40;
  const bot = await startBot({
    guildCount,
    env: variant === 'budget' ? { POLL_RATE_LIMIT: String(options.pollRateLimit / options.scale) } : {},
    app: {
      ...scaledOptions(options.scale),
      // The fixed run never learns: it needs more finished jobs than the bench has.
      durations: { minSamples: variant === 'fixed' ? 1_000_000 : 10 },
    },
    aiml: { generationMs: (job) => byPrompt.get(job.prompt) ?? 1_000, queuedMs: 50 * options.scale },
  });
  const measured: Measured[] = [];
  try {
    let n = 0;
    for (let wave = 0; wave < options.waves; wave++) {
      const batch = jobs.filter((j) => j.wave === wave);
      for (let i = 0; i < batch.length; i++) bot.aiml.script({ audio: smallMp3 });
      const sent = batch.map((job) => ({
        job,
        interaction: musicFrom(bot, n++, guildCount, job.prompt, job.lengthSeconds),
      }));
      const finals = await Promise.all(
        sent.map(({ interaction }) => bot.discord.waitForRequest(isFinalEdit(interaction.token), 120_000)),
      );
      for (const [i, final] of finals.entries()) {
        const job = sent[i]?.job;
        if (!job) continue;
        const { id, completedAt } = recordFor(bot.aiml, job.prompt);
        measured.push({ lagMs: final.at - completedAt, gets: getsFor(bot.aiml, id), wave });
      }
    }
  } finally {
    await bot.close();
  }
  return measured;
}

export async function lagBench(options: LagOptions): Promise<LagRow[]> {
  const jobs = drawJobs(options);
  const row = (variant: string, all: Measured[], baselineGets?: number): LagRow => {
    const measured = all.filter((m) => m.wave > 0);
    const lags = measured.map((m) => m.lagMs / options.scale / 1000);
    const gets = mean(measured.map((m) => m.gets));
    return {
      variant,
      jobs: measured.length,
      medianLagS: percentile(lags, 0.5),
      p90LagS: percentile(lags, 0.9),
      maxLagS: Math.max(...lags),
      getsPerJob: gets,
      getsVsBaseline: baselineGets === undefined ? 1 : gets / baselineGets,
    };
  };
  const reference = row('reference client, fixed 10 s', await runReference(jobs, options));
  const fixed = row(
    'tracksmith, before learning',
    await runBot(jobs, options, 'fixed'),
    reference.getsPerJob,
  );
  const learned = row(
    'tracksmith, learned schedule',
    await runBot(jobs, options, 'learned'),
    reference.getsPerJob,
  );
  const budget = row(
    `tracksmith, learned, POLL_RATE_LIMIT=${options.pollRateLimit}/s`,
    await runBot(jobs, options, 'budget'),
    reference.getsPerJob,
  );
  return [reference, fixed, learned, budget];
}
