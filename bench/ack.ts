import type { FakeDiscord } from '../test/fakes/discord.js';
import type { ProfileSummary } from './cpu-profile.js';
import { musicFrom, startBotProcess } from './fixtures.js';
import { percentile } from './support.js';

/**
 * Acknowledgement under a burst: `count` `/music` interactions dispatched at once, and the time
 * from each dispatch to its defer callback reaching Discord. The baseline is the floor on this
 * machine: a bare discord.js client that defers at once and does nothing else (no validation,
 * no limits, no ledger). The bot's row gives its p99 as a multiple of the floor's. A third burst,
 * unmeasured, runs under a CPU profiler and shows where the bot's time goes.
 */
export interface AckRow {
  variant: string;
  interactions: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  over3s: number;
  /** p99 over the floor's p99 in the same run. */
  vsFloorP99: number;
  /**
   * CPU time of the process (user + system) from the burst's first dispatch to its last
   * acknowledgement: steadier than the latencies on a shared machine.
   */
  cpuMs: number;
}

const guildCount = 40;

/** Dispatch-to-callback times for the interactions just sent. */
async function latencies(discord: FakeDiscord, sent: { id: string }[]): Promise<number[]> {
  const callbacks = await Promise.all(
    sent.map((s) => discord.waitForRequest((r) => r.path.startsWith(`/interactions/${s.id}/`), 60_000)),
  );
  const dispatchedAt = new Map(discord.dispatched.map((d) => [d.id, d.at]));
  return callbacks.map((callback, i) => callback.at - (dispatchedAt.get(sent[i]?.id ?? '') ?? callback.at));
}

function row(variant: string, { values, cpuMs }: Measured, floorP99?: number): AckRow {
  const p99Ms = percentile(values, 0.99);
  return {
    variant,
    interactions: values.length,
    p50Ms: percentile(values, 0.5),
    p99Ms,
    maxMs: Math.max(...values),
    over3s: values.filter((v) => v > 3_000).length,
    vsFloorP99: floorP99 === undefined ? 1 : p99Ms / floorP99,
    cpuMs: Math.round(cpuMs),
  };
}

/** One burst's dispatch-to-callback times, and the CPU its process spent meanwhile. */
interface Measured {
  values: number[];
  cpuMs: number;
}

/**
 * The bot (or the floor) in its own process, so it does not share an event loop with the fake.
 * With `profile`, the burst runs under the CPU profiler and the profile's summary comes back.
 */
async function measure(count: number, variant: 'bot' | 'floor'): Promise<Measured>;
async function measure(count: number, variant: 'bot', profile: true): Promise<ProfileSummary>;
async function measure(
  count: number,
  variant: 'bot' | 'floor',
  profile = false,
): Promise<Measured | ProfileSummary> {
  // Generations that outlast the bench: only the acknowledgement is measured.
  const run = await startBotProcess({ guildCount, scale: 1, variant, aiml: { generationMs: 600_000 } });
  try {
    // A few first, unmeasured, as any benchmark warms up: code paths load on first use.
    const warmUp = Array.from({ length: 20 }, (_, n) =>
      musicFrom({ discord: run.discord }, 100_000 + n, guildCount, `warm-up ${n}`, 30),
    );
    await latencies(run.discord, warmUp);
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (profile) await run.child.ask('profile-start');
    const before = await run.child.report();
    const sent = Array.from({ length: count }, (_, n) =>
      musicFrom({ discord: run.discord }, n, guildCount, `burst ${n}`, 30),
    );
    const values = await latencies(run.discord, sent);
    const after = await run.child.report();
    return profile
      ? await run.child.ask<ProfileSummary>('profile-stop')
      : { values, cpuMs: after.cpuMs - before.cpuMs };
  } finally {
    await run.close();
  }
}

export interface AckResult {
  rows: AckRow[];
  /** Where the bot's CPU went during a burst of its own (profiled, so not measured). */
  profile: ProfileSummary;
}

export async function ackBench(count: number): Promise<AckResult> {
  const floor = row('bare discord.js client that only defers (floor)', await measure(count, 'floor'));
  const bot = row(
    'tracksmith: validate, limits + ledger row, defer',
    await measure(count, 'bot'),
    floor.p99Ms,
  );
  return { rows: [floor, bot], profile: await measure(count, 'bot', true) };
}
