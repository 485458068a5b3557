/**
 * `npm run bench`: every benchmark against the fakes on loopback, each beside its baseline measured
 * in the same run. Prints the tables and writes the figures to bench-results.json. Times inside a
 * bench are scaled (BENCH_SCALE) so minutes of service time run in seconds; results are reported
 * in service time.
 *
 * BENCH_ONLY=lag,workers runs just the named benches (lag, ack, scale, delivery, workers, styles,
 * voice, web) and
 * updates only their figures in bench-results.json.
 * BENCH_PER_WAVE (default 8,40) and BENCH_LAG_LAWS (default provider,steep,fixed) choose the lag
 * bench's wave sizes and duration laws.
 * BENCH_WORKER_JOBS (default 300) sizes the workers bench; it needs PostgreSQL and Redis on
 * 127.0.0.1, as `npm run test:scale` does.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { ackBench } from './ack.js';
import { deliveryBench } from './delivery.js';
import { lagBench, laws } from './lag.js';
import { scaleBench } from './scale.js';
import { machine, printTable } from './support.js';
import { stylesBench } from './styles.js';
import { voiceBench } from './voice.js';
import { webGalleryBench } from './web-gallery.js';
import { workersBench } from './workers.js';

const number = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};

const list = (name: string, fallback: string[]) => {
  const values = process.env[name]
    ?.split(',')
    .map((value) => value.trim())
    .filter(Boolean);
  return values === undefined || values.length === 0 ? fallback : values;
};

/** A bench's rows, and further tables that explain them. */
interface Outcome {
  rows: object[];
  tables?: { name: string; title: string; rows: object[]; note?: string }[];
}

/** Every bench, in the order a full run takes them: its table's title, and how to run it. */
const benches: { name: string; title: string; note?: string; run: () => Promise<object[] | Outcome> }[] = [
  {
    name: 'lag',
    title: '1. Detection lag (service seconds; waves after the first; lag = provider done → member sees it)',
    note:
      'ref = the reference client (a GET every 10 s) on the same jobs; goal: median lag ≤ 1 s at ≤ 2× ' +
      "the reference's GETs per job",
    run: () =>
      lagBench({
        scale: number('BENCH_SCALE', 0.1),
        waves: number('BENCH_WAVES', 3),
        perWave: list('BENCH_PER_WAVE', ['8', '40'])
          .map(Number)
          .filter((n) => Number.isInteger(n) && n > 0),
        laws: list('BENCH_LAG_LAWS', Object.keys(laws)),
        pollRateLimit: number('BENCH_POLL_RATE_LIMIT', 4),
        seed: 42,
      }),
  },
  {
    name: 'ack',
    title: '2. Acknowledgement of a burst of /music (dispatch → defer callback at Discord)',
    note:
      'the first two rows: medians over BENCH_ACK_ROUNDS (default 3) warm rounds, each the floor then ' +
      'the bot back to back, after BENCH_ACK_WARMUP (default 1,000) interactions; the cold rows: one ' +
      "pair after BENCH_ACK_COLD_WARMUP (default 200). vsFloorP99 = the median of the rounds' bot p99 / " +
      'floor p99 (goal ≤ 1.5, warm); cpuMs = CPU time of the process from the first dispatch to the ' +
      'last acknowledgement',
    run: async () => {
      const { rows, rounds, timeline, profile } = await ackBench({
        count: number('BENCH_BURST', 500),
        rounds: number('BENCH_ACK_ROUNDS', 3),
        warmUp: number('BENCH_ACK_WARMUP', 1_000),
        coldWarmUp: number('BENCH_ACK_COLD_WARMUP', 200),
      });
      const cpu = `the bot's CPU went in a profiled burst of its own (${profile.totalMs} ms busy)`;
      return {
        rows,
        tables: [
          { name: 'ackRounds', title: '2r. Each round of the acknowledgement bench', rows: rounds },
          {
            name: 'ackTimeline',
            title: "2t. A warm burst on each process's own clock (medians over the warm rounds)",
            rows: timeline,
            note:
              'ms from the first interaction of the burst reaching the process: the last one in, the first ' +
              "and last acknowledgements out (undici writing the callback); p99AtDiscordMs is table 2's " +
              "p99, read where the fake Discord has parsed each callback, so it includes the fake's own work",
          },
          {
            name: 'ackProfileOrigins',
            title: `2a. Where ${cpu}, by origin (self time)`,
            rows: profile.origins,
          },
          {
            name: 'ackProfileFrames',
            title: `2b. Where ${cpu}: the top frames (self time)`,
            rows: profile.frames,
          },
        ],
      };
    },
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
  {
    name: 'web',
    title:
      '8. The web gallery’s first page: a server with 1,000 tracks beside one with 20 (Chromium, desktop)',
    note:
      'firstLoad = the page as it opens (players fetch nothing until pressed; pictures below the fold wait); ' +
      'scrolled = after scrolling to the end; server p50/p95 = signed-in GET of the page, 200 in a row',
    run: () => webGalleryBench({ sizes: [20, number('BENCH_WEB_TRACKS', 1000)], samples: 200 }),
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
  const outcome = await bench.run();
  const { rows, tables = [] } = Array.isArray(outcome) ? { rows: outcome } : outcome;
  printTable(bench.title, rows);
  if (bench.note !== undefined) console.log(bench.note);
  results[bench.name] = rows;
  for (const table of tables) {
    printTable(table.title, table.rows);
    if (table.note !== undefined) console.log(table.note);
    results[table.name] = table.rows;
  }
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
