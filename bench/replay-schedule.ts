/**
 * `npx tsx bench/replay-schedule.ts`: the learned poll schedule replayed offline on the lag bench's
 * own jobs (same laws, same seed, same waves), with no processes, network or timers. Each job is
 * checked where `firstPollDelay` and `nextPollDelay` say, is found at the first check after it
 * finishes, is learned from as the tracker learns it, and reaches the member a fixed delivery time
 * later. A quick way to see what a change to the schedule does before a full `npm run bench`,
 * which on a loaded machine measures mostly the load.
 *
 * POLL_TARGET_LAG_SECONDS (default: the schedule's) and REPLAY_DELIVERY_SECONDS (default 0.2).
 * The reference client's GETs are counted as the bench counts them: one every 10 s, and the one
 * that sees the track.
 */
import { DurationModel } from '../src/generation/durations.js';
import { defaultSchedule, firstPollDelay, nextPollDelay } from '../src/generation/schedule.js';
import { estimatedDuration } from '../src/generation/tracker.js';
import { drawJobs, laws } from './lag.js';
import { mean, percentile, printTable } from './support.js';

const targetLagMs = Number(process.env.POLL_TARGET_LAG_SECONDS ?? defaultSchedule.targetLagMs / 1000) * 1000;
const deliveryMs = Number(process.env.REPLAY_DELIVERY_SECONDS ?? 0.2) * 1000;
const schedule = { ...defaultSchedule, targetLagMs };

const rows: object[] = [];
for (const law of Object.values(laws)) {
  for (const perWave of [8, 40]) {
    // The bench's own jobs (same seed, same waves), unscaled.
    const all = drawJobs(law, perWave, { seed: 42, waves: 3, scale: 1 });
    const model = new DurationModel();
    const lags: number[] = [];
    const gets: number[] = [];
    const refGets: number[] = [];
    for (let wave = 0; wave < 3; wave++) {
      const jobs = all
        .filter((job) => job.wave === wave)
        .map(({ lengthSeconds, generationMs }) => ({ lengthSeconds, finishMs: generationMs }));
      const learned: { lengthSeconds: number; durationMs: number }[] = [];
      for (const { lengthSeconds, finishMs } of jobs) {
        const window = model.predict(lengthSeconds);
        let at = firstPollDelay(schedule, window);
        let previous = 0;
        let checks = 1;
        while (at < finishMs) {
          previous = at;
          at += nextPollDelay({ elapsedMs: at, consecutiveFailures: 0, window }, schedule, 0);
          checks++;
        }
        // As `checkGeneration` learns it.
        learned.push({ lengthSeconds, durationMs: estimatedDuration(previous, at, window) });
        // The bench measures the waves after the first.
        if (wave === 0) continue;
        lags.push((at - finishMs + deliveryMs) / 1000);
        gets.push(checks);
        refGets.push(Math.ceil(finishMs / 10_000) + 1);
      }
      // A wave's jobs finish before the next wave starts, as in the bench.
      for (const { lengthSeconds, durationMs } of learned) {
        model.add(lengthSeconds, durationMs);
      }
    }
    const getsPerJob = mean(gets);
    const refPerJob = mean(refGets);
    rows.push({
      law: law.name,
      jobs: `3 × ${perWave}`,
      medianLagS: percentile(lags, 0.5),
      meanLagS: mean(lags),
      getsPerJob,
      refGetsPerJob: refPerJob,
      getsVsRef: getsPerJob / refPerJob,
    });
  }
}
printTable(
  `The schedule replayed on the lag bench's jobs (target ${targetLagMs / 1000} s, deliveries ${deliveryMs / 1000} s)`,
  rows,
);
