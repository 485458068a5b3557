import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Job, JobObserver, JobPhase, QueueDepth } from '../generation/ports.js';

/** What the gauges read at scrape time; bound once the parts that own the numbers exist. */
export interface LiveNumbers {
  depth(): Promise<QueueDepth>;
}

/**
 * The bot's Prometheus metrics, in a registry of its own (two apps in one process, as in tests,
 * never share counters). Only this module knows prom-client; the rest calls the methods below.
 */
export interface Metrics extends JobObserver {
  readonly registry: Registry;
  bind(live: LiveNumbers): void;
  providerCall(call: 'create' | 'poll', outcome: string): void;
  providerRetry(call: 'create' | 'chat'): void;
  /** A lyrics draft that reached the model, by how it ended. */
  lyricsDraft(outcome: 'drafted' | 'blocked' | 'failed'): void;
  discordResponse(status: number): void;
  interaction(kind: string): void;
}

const phases: JobPhase[] = ['queued', 'submitting', 'generating', 'downloading', 'delivering'];

export function createMetrics(role: string): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tracksmith_process_' });
  let live: LiveNumbers | undefined;
  // One read of the queue per scrape, shared by the gauges below.
  let scrape: Promise<QueueDepth | undefined> | undefined;
  const depth = () => {
    scrape ??= (live?.depth() ?? Promise.resolve(undefined))
      .catch(() => undefined)
      .finally(() => {
        setImmediate(() => (scrape = undefined));
      });
    return scrape;
  };

  new Gauge({
    name: 'tracksmith_info',
    help: 'What this process does: its role (all, gateway or worker)',
    labelNames: ['role'],
    registers: [registry],
  }).set({ role }, 1);

  const lyricsDrafts = new Counter({
    name: 'tracksmith_lyrics_drafts_total',
    help: 'Lyrics drafts that reached the text model, by outcome (drafted, blocked, failed)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const jobsEnded = new Counter({
    name: 'tracksmith_jobs_total',
    help: 'Requests that ended, by outcome',
    labelNames: ['outcome'],
    registers: [registry],
  });
  new Gauge({
    name: 'tracksmith_jobs',
    help: 'Requests in flight in this process, by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const counts = (await depth())?.byPhase ?? {};
      for (const phase of phases) this.set({ state: phase }, counts[phase] ?? 0);
    },
  });
  new Gauge({
    name: 'tracksmith_queue_depth',
    help: 'Requests waiting for a generation slot (across every worker, with Redis)',
    registers: [registry],
    async collect() {
      this.set((await depth())?.waiting ?? 0);
    },
  });
  new Gauge({
    name: 'tracksmith_shared_queue_jobs',
    help: 'Jobs in the Redis queue: ready for a worker, delayed until their next step, or active',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const shared = (await depth())?.shared;
      if (shared === undefined) return;
      for (const [state, n] of Object.entries(shared)) this.set({ state }, n);
    },
  });
  const generation = new Histogram({
    name: 'tracksmith_generation_seconds',
    help: 'From submission to the provider reporting the track done',
    buckets: [5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600],
    registers: [registry],
  });
  const delivery = new Histogram({
    name: 'tracksmith_delivery_seconds',
    help: 'From the provider reporting the track done to the Discord edit that carries it',
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [registry],
  });
  const providerCalls = new Counter({
    name: 'tracksmith_provider_calls_total',
    help: 'Calls to the provider, by call and outcome (ok, or the error kind)',
    labelNames: ['call', 'outcome'],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'tracksmith_provider_retries_total',
    help: 'Provider calls retried after a transient failure',
    labelNames: ['call'],
    registers: [registry],
  });
  const polls = new Counter({
    name: 'tracksmith_polls_total',
    help: 'Generation status checks sent to the provider',
    registers: [registry],
  });
  const discordErrors = new Counter({
    name: 'tracksmith_discord_errors_total',
    help: 'Discord REST responses with an error status',
    labelNames: ['status'],
    registers: [registry],
  });
  const interactions = new Counter({
    name: 'tracksmith_interactions_total',
    help: 'Interactions received, by kind',
    labelNames: ['kind'],
    registers: [registry],
  });

  return {
    registry,
    bind(numbers) {
      live = numbers;
    },
    finished(job: Job) {
      jobsEnded.inc({ outcome: job.phase });
      if (job.phase !== 'completed') return;
      if (job.generationMs !== undefined) generation.observe(job.generationMs / 1000);
      if (job.completedAt !== undefined && job.deliveredAt !== undefined) {
        delivery.observe((job.deliveredAt - job.completedAt) / 1000);
      }
    },
    providerCall(call, outcome) {
      providerCalls.inc({ call, outcome });
      if (call === 'poll') polls.inc();
    },
    providerRetry(call) {
      retries.inc({ call });
    },
    discordResponse(status) {
      if (status >= 400) discordErrors.inc({ status: String(status) });
    },
    interaction(kind) {
      interactions.inc({ kind });
    },
    lyricsDraft(outcome) {
      lyricsDrafts.inc({ outcome });
    },
  };
}
