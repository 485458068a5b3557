import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../src/aiml/errors.js';
import type { PollResult } from '../../src/aiml/types.js';
import { DurationModel } from '../../src/generation/durations.js';
import { defaultSchedule, planChecks } from '../../src/generation/schedule.js';
import { Tracker, type TrackResult } from '../../src/generation/tracker.js';
import { ManualClock } from '../support/clock.js';
import { captureLogs } from '../support/log.js';

type Answer = PollResult | ProviderError | ((at: number) => PollResult | ProviderError | Promise<PollResult>);

/** A provider edge that answers from a per-generation script and records when it was asked. */
function scriptedProvider(clock: ManualClock, scripts: Record<string, Answer[]>) {
  const calls: { id: string; at: number }[] = [];
  return {
    calls,
    poll(id: string): Promise<PollResult> {
      calls.push({ id, at: clock.now() });
      const script = scripts[id] ?? [];
      const answer = script.length > 1 ? script.shift() : script[0];
      if (answer === undefined) return Promise.resolve({ kind: 'pending', status: 'queued', known: true });
      const value = typeof answer === 'function' ? answer(clock.now()) : answer;
      return value instanceof ProviderError ? Promise.reject(value) : Promise.resolve(value);
    },
  };
}

const pending: PollResult = { kind: 'pending', status: 'generating', known: true };
const done: PollResult = { kind: 'completed', audioUrl: 'https://cdn.example/a.mp3', creditsUsed: 300 };

function setup(
  scripts: Record<string, Answer[]>,
  options: {
    maxConcurrentPolls?: number;
    timeoutMs?: number;
    durations?: DurationModel;
    pollRateLimit?: number;
  } = {},
) {
  const clock = new ManualClock();
  const provider = scriptedProvider(clock, scripts);
  const logs = captureLogs();
  const tracker = new Tracker({
    provider,
    clock,
    logger: logs.logger,
    schedule: defaultSchedule,
    timeoutMs: options.timeoutMs ?? 600_000,
    maxConcurrentPolls: options.maxConcurrentPolls ?? 8,
    ...(options.durations ? { durations: options.durations } : {}),
    ...(options.pollRateLimit === undefined ? {} : { pollRateLimit: options.pollRateLimit }),
    random: () => 0,
  });
  const results = new Map<string, TrackResult>();
  const track = (id: string, lengthSeconds?: number) => {
    void tracker.track(id, logs.logger, clock.now(), lengthSeconds).then((result) => results.set(id, result));
  };
  return { clock, provider, tracker, results, track, logs };
}

describe('Tracker', () => {
  it('checks soon after submission, then at widening gaps, until completed', async () => {
    const { clock, provider, results, track, tracker } = setup({
      a: [pending, pending, pending, pending, done],
    });
    track('a');
    await clock.advance(60_000);
    const start = 1_700_000_000_000;
    expect(provider.calls.map((c) => c.at - start)).toEqual([2_000, 3_000, 4_000, 5_000, 6_000]);
    // Finished between the checks at 5 s and 6 s: 5.5 s is the estimate.
    expect(results.get('a')).toEqual({ ...done, durationMs: 5_500, polls: 5 });
    expect(tracker.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runs every job from one timer, whatever the number of jobs', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => `job-${i}`);
    const { clock, results, track } = setup(Object.fromEntries(ids.map((id) => [id, [pending, done]])));
    ids.forEach(track);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(10_000);
    expect(results.size).toBe(200);
  });

  it('keeps polling through unknown statuses and logs each once', async () => {
    const odd: PollResult = { kind: 'pending', status: 'waiting', known: false };
    const { clock, results, track, logs } = setup({ a: [odd, odd, odd, done] });
    track('a');
    await clock.advance(30_000);
    expect(results.get('a')?.kind).toBe('completed');
    const warnings = logs.lines.filter((l) => l.msg === 'unknown generation status; still waiting');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.status).toBe('waiting');
  });

  it('backs off after transient failures, honours Retry-After, then recovers', async () => {
    const down = new ProviderError('unavailable', { operation: 'poll', status: 503 });
    const limited = new ProviderError('rate-limited', {
      operation: 'poll',
      status: 429,
      retryAfterMs: 20_000,
    });
    const { clock, provider, results, track } = setup({ a: [down, down, limited, done] });
    track('a');
    await clock.advance(120_000);
    const gaps = provider.calls.slice(1).map((c, i) => c.at - (provider.calls[i]?.at ?? 0));
    expect(gaps).toEqual([1_000, 2_000, 20_000]);
    expect(results.get('a')?.kind).toBe('completed');
  });

  it('gives up at once on a permanent provider error', async () => {
    const revoked = new ProviderError('unauthorized', { operation: 'poll', status: 401 });
    const { clock, results, track } = setup({ a: [revoked] });
    track('a');
    await clock.advance(5_000);
    expect(results.get('a')).toMatchObject({ kind: 'provider-error', polls: 1 });
  });

  it('checks one last time at the deadline, then reports a timeout', async () => {
    const { clock, provider, results, track } = setup({ a: [pending] }, { timeoutMs: 30_000 });
    track('a');
    await clock.advance(29_999);
    expect(results.has('a')).toBe(false);
    await clock.advance(1);
    expect(provider.calls.at(-1)?.at).toBe(1_700_000_000_000 + 30_000);
    expect(results.get('a')).toMatchObject({ kind: 'timed-out', waitedMs: 30_000 });
  });

  it('reports the provider error status with its message', async () => {
    const failed: PollResult = { kind: 'failed', message: 'Prompt too vague', creditsUsed: undefined };
    const { clock, results, track } = setup({ a: [failed] });
    track('a');
    await clock.advance(5_000);
    expect(results.get('a')).toMatchObject({ kind: 'failed', message: 'Prompt too vague' });
  });

  it('never has more checks in flight than allowed, and a slow answer does not stall the others', async () => {
    let release: () => void = () => undefined;
    const slow = () =>
      new Promise<PollResult>((resolve) => {
        release = () => resolve(done);
      });
    let inFlight = 0;
    let peak = 0;
    const counted = () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      return Promise.resolve().then(() => {
        inFlight--;
        return done;
      });
    };
    const { clock, results, track } = setup(
      { slow: [slow], a: [counted], b: [counted], c: [counted], d: [counted] },
      { maxConcurrentPolls: 2 },
    );
    ['slow', 'a', 'b', 'c', 'd'].forEach(track);
    await clock.advance(3_000);
    expect(peak).toBeLessThanOrEqual(1);
    expect([...results.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    release();
    await clock.advance(1);
    expect(results.get('slow')?.kind).toBe('completed');
  });

  it('stop() settles every tracked job as stopped and cancels the timer', async () => {
    const { clock, results, track, tracker } = setup({ a: [pending], b: [pending] });
    track('a');
    track('b');
    await clock.advance(2_500);
    tracker.stop();
    await clock.advance(0);
    expect(results.get('a')?.kind).toBe('stopped');
    expect(results.get('b')?.kind).toBe('stopped');
    expect(clock.pendingTimers).toBe(0);
  });

  it('once it has learned how long jobs take, checks only where its plan for the window says', async () => {
    // Ten earlier 60-second tracks took 20 to 24 s.
    const durations = new DurationModel({ minSamples: 10, maxSamples: 100, tail: 0 });
    for (let i = 0; i < 10; i++) durations.add(60, 20_000 + (i * 4_000) / 9);
    const window = durations.predict(60);
    if (!window) throw new Error('no prediction');
    const plan = planChecks(window, defaultSchedule.targetLagMs, defaultSchedule.minGapMs);
    const finishesAt = (at: number) => (at - start >= 22_300 ? done : pending);
    const start = 1_700_000_000_000;
    const { clock, provider, results, track } = setup({ a: [finishesAt] }, { durations });
    track('a', 60);
    await clock.advance(60_000);
    // Nothing before the window, then the planned checks until one finds it: fewer than one a second.
    const found = plan.findIndex((at) => at >= 22_300);
    expect(provider.calls.map((c) => c.at - start)).toEqual(plan.slice(0, found + 1));
    expect(plan[0]).toBeGreaterThan(window.lowMs);
    expect(window.lowMs).toBeGreaterThan(16_000);
    expect(plan.length).toBeLessThan((window.highMs - window.lowMs) / 1_000);
    expect(results.get('a')).toMatchObject({ kind: 'completed', polls: found + 1 });
    // The finished job is learned from.
    expect(durations.size).toBe(11);
  });

  it('keeps to POLL_RATE_LIMIT and spends the checks on the jobs most likely to be done', async () => {
    const durations = new DurationModel({ minSamples: 10, maxSamples: 100, tail: 0 });
    for (let i = 0; i < 10; i++) durations.add(10, 5_000 + i * 100);
    for (let i = 0; i < 10; i++) durations.add(300, 60_000 + i * 1_000);
    const start = 1_700_000_000_000;
    // Twenty short jobs finish at 5.5 s; twenty long ones run for 65 s.
    const short = (at: number) => (at - start >= 5_500 ? done : pending);
    const long = (at: number) => (at - start >= 65_000 ? done : pending);
    const scripts: Record<string, Answer[]> = {};
    for (let i = 0; i < 20; i++) {
      scripts[`short-${i}`] = [short];
      scripts[`long-${i}`] = [long];
    }
    const { clock, provider, results, track } = setup(scripts, { durations, pollRateLimit: 5 });
    for (let i = 0; i < 20; i++) {
      track(`long-${i}`, 300);
      track(`short-${i}`, 10);
    }
    await clock.advance(120_000);
    expect(results.size).toBe(40);
    // Evenly spaced: never more than 5 checks in any one-second span.
    const times = provider.calls.map((c) => c.at);
    for (const t of times) expect(times.filter((u) => u >= t && u < t + 1_000).length).toBeLessThanOrEqual(5);
    expect(Math.min(...times.slice(1).map((t, i) => t - (times[i] ?? 0)))).toBeGreaterThanOrEqual(200);
    // The short jobs, likely done early, got their checks first: all found within 12 s.
    const foundShort = provider.calls.filter((c) => c.id.startsWith('short')).map((c) => c.at - start);
    expect(Math.max(...foundShort)).toBeLessThan(12_000);
  });
});
