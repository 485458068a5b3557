import type { FakeDiscord } from '../test/fakes/discord.js';
import { musicFrom, startBotProcess } from './fixtures.js';
import { percentile } from './support.js';

/**
 * Acknowledgement under a burst: `count` `/music` interactions dispatched at once, and the time
 * from each dispatch to its defer callback reaching Discord. The baseline is the floor on this
 * machine: a bare discord.js client that defers at once and does nothing else (no validation,
 * no limits, no ledger).
 */
export interface AckRow {
  variant: string;
  interactions: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  over3s: number;
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

function row(variant: string, values: number[]): AckRow {
  return {
    variant,
    interactions: values.length,
    p50Ms: percentile(values, 0.5),
    p99Ms: percentile(values, 0.99),
    maxMs: Math.max(...values),
    over3s: values.filter((v) => v > 3_000).length,
  };
}

/** The bot (or the floor) in its own process, so it does not share an event loop with the fake. */
async function measure(count: number, variant: 'bot' | 'floor'): Promise<number[]> {
  // Generations that outlast the bench: only the acknowledgement is measured.
  const run = await startBotProcess({ guildCount, scale: 1, variant, aiml: { generationMs: 600_000 } });
  try {
    // A few first, unmeasured, as any benchmark warms up: code paths load on first use.
    const warmUp = Array.from({ length: 20 }, (_, n) =>
      musicFrom({ discord: run.discord }, 100_000 + n, guildCount, `warm-up ${n}`, 30),
    );
    await latencies(run.discord, warmUp);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const sent = Array.from({ length: count }, (_, n) =>
      musicFrom({ discord: run.discord }, n, guildCount, `burst ${n}`, 30),
    );
    return await latencies(run.discord, sent);
  } finally {
    await run.close();
  }
}

export async function ackBench(count: number): Promise<AckRow[]> {
  return [
    row('bare discord.js client that only defers (floor)', await measure(count, 'floor')),
    row('tracksmith: validate, limits + ledger row, defer', await measure(count, 'bot')),
  ];
}
