import { makeMp3 } from '../test/fakes/mp3.js';
import { FakeAiml } from '../test/fakes/aiml.js';
import { isFinalEdit, musicFrom, scaledOptions, startBot } from './fixtures.js';
import { referenceGenerate } from './reference-client.js';
import { mean, percentile, seeded } from './support.js';

/**
 * Detection lag: from the provider marking a job completed to the member seeing it (the final
 * Discord edit for the bot; the detecting GET for the reference client, which is kinder to it),
 * and the status checks each job cost. Jobs arrive in waves, and only waves after the first are
 * measured, so the bot has seen some before it is judged. Each duration law is run with a small
 * and a large wave, since the bot must learn well from a few jobs as well as from many.
 */
export interface LagOptions {
  scale: number;
  waves: number;
  /** Jobs per wave: one row each (a small and a large count). */
  perWave: readonly number[];
  /** Which duration laws to run (names from `laws`). */
  laws: readonly string[];
  /** `POLL_RATE_LIMIT` for the budgeted run, in checks per service second. */
  pollRateLimit: number;
  seed: number;
}

/** How long the provider takes for a length of music: fixed part + per second, ± noise. */
export interface DurationLaw {
  name: string;
  fixedMs: number;
  perSecondMs: number;
  noise: number;
}

export const laws: Record<string, DurationLaw> = {
  // The real service's shape.
  provider: { name: '3 s + 0.2 s/s ± 15%', fixedMs: 3_000, perSecondMs: 200, noise: 0.15 },
  // Long tracks take minutes: wide windows, where evenly dense checks would cost most.
  steep: { name: '1 s + 0.5 s/s ± 15%', fixedMs: 1_000, perSecondMs: 500, noise: 0.15 },
  // Mostly a fixed wait (a queue at the provider): length hardly matters, the line is nearly flat.
  fixed: { name: '20 s + 0.05 s/s ± 15%', fixedMs: 20_000, perSecondMs: 50, noise: 0.15 },
};

export interface LagRow {
  law: string;
  /** Waves × jobs per wave. */
  jobs: string;
  variant: string;
  /** The reference client's median lag and GETs per job on the same jobs. */
  refMedianLagS: number;
  refGetsPerJob: number;
  medianLagS: number;
  p90LagS: number;
  maxLagS: number;
  getsPerJob: number;
  getsVsRef: number;
  /** Median lag ≤ 1 s at ≤ 2× the reference's GETs. */
  goal: 'met' | 'missed';
}

export interface Job {
  prompt: string;
  lengthSeconds: number;
  generationMs: number;
  wave: number;
}

/** The bench's jobs for one law and wave size, drawn from the seed (the offline replay uses them too). */
export function drawJobs(
  law: DurationLaw,
  perWave: number,
  options: Pick<LagOptions, 'seed' | 'waves' | 'scale'>,
): Job[] {
  const random = seeded(options.seed);
  const jobs: Job[] = [];
  for (let wave = 0; wave < options.waves; wave++) {
    for (let i = 0; i < perWave; i++) {
      const lengthSeconds = 10 + Math.floor(random() * 291);
      const noise = 1 + (random() * 2 - 1) * law.noise;
      jobs.push({
        prompt: `bench wave ${wave} job ${i}`,
        lengthSeconds,
        generationMs: (law.fixedMs + law.perSecondMs * lengthSeconds) * noise * options.scale,
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

/** The default schedule; a tighter target lag; the default under a poll budget. */
type Variant = 'learned' | 'tighter' | 'budget';

/** The target lag of the `tighter` variant, in service seconds. */
const tighterTargetS = 0.4;

async function runBot(jobs: Job[], options: LagOptions, variant: Variant): Promise<Measured[]> {
  const byPrompt = new Map(jobs.map((j) => [j.prompt, j.generationMs]));
  const guildCount = 40;
  const bot = await startBot({
    guildCount,
    env: variant === 'budget' ? { POLL_RATE_LIMIT: String(options.pollRateLimit / options.scale) } : {},
    app: scaledOptions(options.scale, variant === 'tighter' ? tighterTargetS : undefined),
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
        sent.map(({ interaction }) => bot.discord.waitForRequest(isFinalEdit(interaction.token), 600_000)),
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

interface Summary {
  medianLagS: number;
  p90LagS: number;
  maxLagS: number;
  getsPerJob: number;
}

function summarise(all: Measured[], scale: number): Summary {
  const measured = all.filter((m) => m.wave > 0);
  const lags = measured.map((m) => m.lagMs / scale / 1000);
  return {
    medianLagS: percentile(lags, 0.5),
    p90LagS: percentile(lags, 0.9),
    maxLagS: Math.max(...lags),
    getsPerJob: mean(measured.map((m) => m.gets)),
  };
}

export async function lagBench(options: LagOptions): Promise<LagRow[]> {
  const rows: LagRow[] = [];
  for (const name of options.laws) {
    const law = laws[name];
    if (!law) throw new Error(`BENCH_LAG_LAWS: no law ${name} (${Object.keys(laws).join(', ')})`);
    for (const perWave of options.perWave) {
      const jobs = drawJobs(law, perWave, options);
      const reference = summarise(await runReference(jobs, options), options.scale);
      // The real service's law, with the most jobs, also shows what the two knobs do.
      const variants: Variant[] =
        name === 'provider' && perWave === Math.max(...options.perWave)
          ? ['learned', 'tighter', 'budget']
          : ['learned'];
      for (const variant of variants) {
        const bot = summarise(await runBot(jobs, options, variant), options.scale);
        const getsVsRef = bot.getsPerJob / reference.getsPerJob;
        rows.push({
          law: law.name,
          jobs: `${options.waves} × ${perWave}`,
          variant: {
            learned: 'learned',
            tighter: `learned, POLL_TARGET_LAG_SECONDS=${tighterTargetS}`,
            budget: `learned, POLL_RATE_LIMIT=${options.pollRateLimit}/s`,
          }[variant],
          refMedianLagS: reference.medianLagS,
          refGetsPerJob: reference.getsPerJob,
          ...bot,
          getsVsRef,
          goal: bot.medianLagS <= 1 && getsVsRef <= 2 ? 'met' : 'missed',
        });
      }
    }
  }
  return rows;
}
