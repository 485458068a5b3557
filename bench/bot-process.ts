/**
 * The bot, or the bare-client floor, as a child process of a bench, so that its memory and CPU
 * are its own and the fakes in the parent do not share its event loop. Configured from the
 * environment like production; BENCH_SCALE scales the schedule. Answers IPC: `report` (peak RSS
 * and CPU time so far), `profile-start` and `profile-stop` (a CPU profile's summary, see
 * cpu-profile.ts), `timeline-start` and `timeline` (see burst-timeline.ts), `stop`.
 */
import { Events } from 'discord.js';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createDiscordClient } from '../src/discord/client.js';
import { createLogger } from '../src/log.js';
import { installProcessGuards } from '../src/process-guards.js';
import { TimelineRecorder } from './burst-timeline.js';
import { CpuProfiler } from './cpu-profile.js';
import { scaledOptions } from './fixtures.js';

let peakRss = process.memoryUsage().rss;
setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20).unref();

const config = loadConfig(process.env);
let stop: () => Promise<void>;
let timeline: TimelineRecorder | undefined;
if (process.env.BENCH_VARIANT === 'floor') {
  const client = createDiscordClient({ apiUrl: config.DISCORD_API_URL, logger: createLogger('silent') });
  client.on(Events.InteractionCreate, (interaction) => {
    if (interaction.isRepliable()) void interaction.deferReply();
  });
  timeline = new TimelineRecorder(client);
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(config.DISCORD_TOKEN);
  await ready;
  stop = () => client.destroy();
} else {
  const app = await createApp(
    config,
    scaledOptions(Number(process.env.BENCH_SCALE ?? '1'), config.POLL_TARGET_LAG_SECONDS),
  );
  installProcessGuards(app.logger);
  if (app.client) timeline = new TimelineRecorder(app.client);
  await app.start();
  stop = () => app.stop();
}

const profiler = new CpuProfiler();
process.on('message', (message: unknown) => {
  if (message === 'profile-start') {
    void profiler.start().then(() => process.send?.('profiling'));
  } else if (message === 'profile-stop') {
    void profiler.stop().then((summary) => process.send?.(summary));
  } else if (message === 'timeline-start') {
    timeline?.reset();
    process.send?.('recording');
  } else if (message === 'timeline') {
    process.send?.(timeline?.read() ?? null);
  } else if (message === 'report') {
    const cpu = process.cpuUsage();
    process.send?.({
      peakRssMiB: peakRss / 1024 / 1024,
      rssMiB: process.memoryUsage().rss / 1024 / 1024,
      cpuMs: (cpu.user + cpu.system) / 1000,
    });
  } else if (message === 'stop') {
    void stop().then(() => process.exit(0));
  }
});
process.send?.('ready');
