/**
 * `npm run bench`: every benchmark against the fakes on loopback, each beside its baseline measured
 * in the same run. Prints the tables and writes the figures to bench-results.json. Times inside a
 * bench are scaled (BENCH_SCALE) so minutes of service time run in seconds; results are reported
 * in service time.
 *
 * BENCH_ONLY=lag,workers runs just the named benches (lag, ack, scale, delivery, workers, styles, voice) and
 * updates only their figures in bench-results.json.
 * BENCH_WORKER_JOBS (default 300) sizes the workers bench; it needs PostgreSQL and Redis on
 * 127.0.0.1, as `npm run test:scale` does.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { ackBench } from './ack.js';
import { deliveryBench } from './delivery.js';
import { lagBench } from './lag.js';
import { scaleBench } from './scale.js';
import { machine, printTable } from './support.js';
import { stylesBench } from './styles.js';
import { voiceBench } from './voice.js';
import { workersBench } from './workers.js';

const number = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

/** Every bench, in the order a full run takes them: its table's title, and how to run it. */
const benches: { name: string; title: string; note?: string; run: () => Promise<object[]> }[] = [
  {
    name: 'lag',
    title: '1. Detection lag (service seconds; waves after the first; lag = provider done → member sees it)',
    run: () =>
      lagBench({
        scale: number('BENCH_SCALE', 0.1),
        waves: number('BENCH_WAVES', 3),
        perWave: number('BENCH_PER_WAVE', 40),
        pollRateLimit: number('BENCH_POLL_RATE_LIMIT', 4),
        seed: 42,
      }),
  },
  {
    name: 'ack',
    title: '2. Acknowledgement of a burst of /music (dispatch → defer callback at Discord)',
    run: () => ackBench(number('BENCH_BURST', 500)),
  },
  {
    name: 'scale',
    title: '3. Tracking 5,000 generations in flight, all finishing together (drain in service seconds)',
    run: () => scaleBench(number('BENCH_IN_FLIGHT', 5000), 0.5, number('BENCH_SCALE_RATE_LIMIT', 500)),
  },
  {
    name: 'delivery',
    title: '4. Delivery of 1-8 MiB tracks finishing together (download + upload)',
    run: () => deliveryBench(number('BENCH_DELIVERIES', 96), 0.2),
  },
  {
    name: 'workers',
    title: '5. Gateway and workers as processes vs the single process (real seconds, unscaled)',
    note:
      'deliveriesPerS = requests / (last final edit − first /music sent); p50/p99LagS = final edit at ' +
      'Discord − provider marked the job done; processes = bot processes beside PostgreSQL and Redis',
    run: () => workersBench({ jobs: number('BENCH_WORKER_JOBS', 300), workerCounts: [1, 2, 4], seed: 42 }),
  },
  {
    name: 'styles',
    title: '6. A /music style: autocomplete answer (store query + matching; Discord allows 3 s)',
    run: async () => [
      ...(await stylesBench(number('BENCH_STYLE_TRACKS', 20_000))),
      ...(await stylesBench(number('BENCH_STYLE_TRACKS_LARGE', 200_000))),
    ],
  },
  {
    name: 'voice',
    title: '7. Listening in voice: join time, gap between two tracks, CPU and memory per playing server',
    note:
      'cpuPctOfCore = CPU time / wall time of the bot process over the window; per server = (playing − idle) / ' +
      'servers; joinMs = /listen start sent → voice session ready at the voice server; gapMs = longest ' +
      'silence between the last sound of one track and the first of the next, as the voice server heard it',
    run: () =>
      voiceBench({
        servers: number('BENCH_VOICE_SERVERS', 4),
        windowMs: number('BENCH_VOICE_WINDOW_MS', 8_000),
      }),
  },
];

const only =
  process.env.BENCH_ONLY?.split(',')
    .map((name) => name.trim())
    .filter(Boolean) ?? [];
const names = benches.map((bench) => bench.name);
// A misspelt name would otherwise run nothing and still write an (empty) bench-results.json.
const unknown = only.filter((name) => !names.includes(name));
if (unknown.length > 0) throw new Error(`BENCH_ONLY: no bench ${unknown.join(', ')} (${names.join(', ')})`);

const startedAt = Date.now();
console.log(`Tracksmith benchmarks on ${machine()}`);
const results: Record<string, unknown> = { machine: machine(), startedAt: new Date(startedAt).toISOString() };

for (const bench of benches) {
  if (only.length > 0 && !only.includes(bench.name)) continue;
  const rows = await bench.run();
  printTable(bench.title, rows);
  if (bench.note !== undefined) console.log(bench.note);
  results[bench.name] = rows;
}

results.seconds = (Date.now() - startedAt) / 1000;
// A partial run updates its own benches' figures and keeps the rest from the last run.
const earlier: Record<string, unknown> =
  only.length === 0
    ? {}
    : await readFile('bench-results.json', 'utf8')
        .then((text) => JSON.parse(text) as Record<string, unknown>)
        .catch(() => ({}));
await writeFile('bench-results.json', `${JSON.stringify({ ...earlier, ...results }, null, 2)}\n`);
console.log(`\nDone in ${Math.round((Date.now() - startedAt) / 1000)} s; figures in bench-results.json`);
