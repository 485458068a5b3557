import type { FakeDiscord } from '../test/fakes/discord.js';
import type { BurstTimeline } from './burst-timeline.js';
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
/** Warm-up interactions are numbered from here (their members differ from the burst's). */
const WARM_UP_FROM = 100_000;

/** Dispatch-to-callback times for the interactions just sent. */
async function latencies(discord: FakeDiscord, sent: { id: string }[]): Promise<number[]> {
  const callbacks = await Promise.all(
    sent.map((s) => discord.waitForRequest((r) => r.path.startsWith(`/interactions/${s.id}/`), 60_000)),
  );
  const dispatchedAt = new Map(discord.dispatched.map((d) => [d.id, d.at]));
  return callbacks.map((callback, i) => callback.at - (dispatchedAt.get(sent[i]?.id ?? '') ?? callback.at));
}

/** One burst's figures, before any comparison. */
type BurstStats = Omit<AckRow, 'variant' | 'vsFloorP99'>;

function stats({ values, cpuMs }: Measured): BurstStats {
  return {
    interactions: values.length,
    p50Ms: percentile(values, 0.5),
    p99Ms: percentile(values, 0.99),
    maxMs: Math.max(...values),
    over3s: values.filter((v) => v > 3_000).length,
    cpuMs: Math.round(cpuMs),
  };
}

/** One burst's dispatch-to-callback times, the CPU its process spent meanwhile, and its timeline. */
interface Measured {
  values: number[];
  cpuMs: number;
  timeline: BurstTimeline;
}

/**
 * The bot (or the floor) in its own process, so it does not share an event loop with the fake.
 * With `profile`, the burst runs under the CPU profiler and the profile's summary comes back.
 */
async function measure(count: number, warmUpCount: number, variant: 'bot' | 'floor'): Promise<Measured>;
async function measure(
  count: number,
  warmUpCount: number,
  variant: 'bot',
  profile: true,
): Promise<ProfileSummary>;
async function measure(
  count: number,
  warmUpCount: number,
  variant: 'bot' | 'floor',
  profile = false,
): Promise<Measured | ProfileSummary> {
  // Generations that outlast the bench: only the acknowledgement is measured. Twice the servers:
  // the warm-up runs on the second half, so the burst meets the same limits and lines as before it.
  const run = await startBotProcess({
    guildCount: guildCount * 2,
    scale: 1,
    variant,
    aiml: { generationMs: 600_000 },
  });
  try {
    // Warm first, unmeasured: `warmUpCount` interactions, each answered before the burst.
    const warmUp = Array.from({ length: warmUpCount }, (_, i) =>
      musicFrom(
        { discord: run.discord },
        WARM_UP_FROM + guildCount + (i % guildCount) + 2 * guildCount * Math.floor(i / guildCount),
        guildCount * 2,
        `warm-up ${i}`,
        30,
      ),
    );
    await latencies(run.discord, warmUp);
    // The bot then submits each and edits its reply once; the burst starts after that work.
    if (variant === 'bot') {
      await Promise.all(
        warmUp.map((w) =>
          run.discord.waitForRequest(
            (r) => r.method === 'PATCH' && r.path.endsWith(`/${w.token}/messages/@original`),
            60_000,
          ),
        ),
      );
    }
    if (profile) await run.child.ask('profile-start');
    await run.child.ask('timeline-start');
    const before = await run.child.report();
    const sent = Array.from({ length: count }, (_, n) =>
      musicFrom({ discord: run.discord }, n, guildCount, `burst ${n}`, 30),
    );
    const values = await latencies(run.discord, sent);
    const after = await run.child.report();
    return profile
      ? await run.child.ask<ProfileSummary>('profile-stop')
      : {
          values,
          cpuMs: after.cpuMs - before.cpuMs,
          timeline: await run.child.ask<BurstTimeline>('timeline'),
        };
  } finally {
    await run.close();
  }
}

export interface AckResult {
  rows: AckRow[];
  /** Each round's floor and bot, side by side. */
  rounds: AckRound[];
  /** Where the warm bursts' time went: each process's own clock beside the fake's (medians). */
  timeline: AckTimelineRow[];
  /** Where the bot's CPU went during a burst of its own (profiled, so not measured). */
  profile: ProfileSummary;
}

export interface AckTimelineRow extends BurstTimeline {
  variant: string;
  /** The same burst's p99 as the fake Discord measured it (from dispatch, on its clock). */
  p99AtDiscordMs: number;
  /** The last acknowledgement out of the process, over the floor's (median of the rounds'). */
  lastAckOutVsFloor: number;
}

export interface AckRound {
  round: string;
  floorP99Ms: number;
  botP99Ms: number;
  vsFloorP99: number;
  floorCpuMs: number;
  botCpuMs: number;
}

export interface AckOptions {
  /** Interactions in each measured burst. */
  count: number;
  /** Warm rounds: the goal's measure. */
  rounds: number;
  /** Interactions each process answers before a warm round's burst (a bot that has been up a while). */
  warmUp: number;
  /** The same before the one cold pair, shown beside the warm rounds. */
  coldWarmUp: number;
}

const median = (values: readonly number[]) => percentile(values, 0.5);

/**
 * Pairs of bursts, the floor and then the bot, each pair back to back. One pair's ratio moved
 * between 1.0 and 2.8 from run to run on the same code, with the floor's own p99 anywhere from 125
 * to 420 ms: the shared machine, not either program. The rows give each variant's medians over the
 * warm rounds, and the ratio is the median of the pairs' ratios, so one noisy burst does not decide
 * it.
 *
 * Warmth halves the cost. After 200 interactions both processes still run much of their code
 * unoptimised, and a burst costs each about twice the CPU it costs after 1,000; the ratio between
 * them moves about as much either way. A bot that has been up a while is warm, so the goal is
 * judged warm; one cold pair is measured beside it, so the cold cost is not hidden.
 */
export async function ackBench(options: AckOptions): Promise<AckResult> {
  const { count } = options;
  const pair = async (round: string, warmUp: number) => {
    const floorRun = await measure(count, warmUp, 'floor');
    const botRun = await measure(count, warmUp, 'bot');
    const floor = stats(floorRun);
    const bot = stats(botRun);
    const summary: AckRound = {
      round,
      floorP99Ms: floor.p99Ms,
      botP99Ms: bot.p99Ms,
      vsFloorP99: bot.p99Ms / floor.p99Ms,
      floorCpuMs: floor.cpuMs,
      botCpuMs: bot.cpuMs,
    };
    return { floor, bot, summary, timelines: { floor: floorRun.timeline, bot: botRun.timeline } };
  };
  const warm: Awaited<ReturnType<typeof pair>>[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    warm.push(await pair(`warm ${round} (${options.warmUp} first)`, options.warmUp));
  }
  const cold = await pair(`cold (${options.coldWarmUp} first)`, options.coldWarmUp);

  /** Medians over the rounds (the worst for bursts over 3 s). */
  const summarise = (variant: string, each: BurstStats[], vsFloorP99: number): AckRow => ({
    variant,
    interactions: count,
    p50Ms: median(each.map((r) => r.p50Ms)),
    p99Ms: median(each.map((r) => r.p99Ms)),
    maxMs: median(each.map((r) => r.maxMs)),
    over3s: Math.max(...each.map((r) => r.over3s)),
    vsFloorP99,
    cpuMs: median(each.map((r) => r.cpuMs)),
  });
  const floorRow = summarise(
    'bare discord.js client that only defers (floor)',
    warm.map((w) => w.floor),
    1,
  );
  const botRow = summarise(
    'tracksmith: validate, limits + ledger row, defer',
    warm.map((w) => w.bot),
    median(warm.map((w) => w.summary.vsFloorP99)),
  );
  /** One process's warm bursts on its own clock, beside the same bursts' row above. */
  const timelineRow = (variant: string, of: 'floor' | 'bot', row: AckRow): AckTimelineRow => {
    const each = warm.map((w) => w.timelines[of]);
    return {
      variant,
      lastInteractionInMs: median(each.map((t) => t.lastInteractionInMs)),
      firstAckOutMs: median(each.map((t) => t.firstAckOutMs)),
      lastAckOutMs: median(each.map((t) => t.lastAckOutMs)),
      p99AtDiscordMs: row.p99Ms,
      lastAckOutVsFloor: median(
        warm.map((w) => w.timelines[of].lastAckOutMs / w.timelines.floor.lastAckOutMs),
      ),
    };
  };
  return {
    rows: [
      floorRow,
      botRow,
      summarise(`floor, cold (${options.coldWarmUp} first)`, [cold.floor], 1),
      summarise(`tracksmith, cold (${options.coldWarmUp} first)`, [cold.bot], cold.summary.vsFloorP99),
    ],
    rounds: [...warm.map((w) => w.summary), cold.summary],
    timeline: [timelineRow('floor', 'floor', floorRow), timelineRow('tracksmith', 'bot', botRow)],
    profile: await measure(count, options.warmUp, 'bot', true),
  };
}
