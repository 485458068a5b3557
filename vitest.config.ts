import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { compileCacheEnv } from './test/support/entry-points.js';
import { LongestFirst } from './test/support/sequencer.js';

/**
 * The fake voice server's certificate, trusted the way an operator trusts a private CA: through
 * NODE_EXTRA_CA_CERTS. Node reads it once at process start, so it goes into this process's
 * environment before vitest forks its workers (which inherit it), not into `test.env`. Any bundle
 * already configured is kept beside it.
 */
function trustVoiceTestCertificate(): void {
  const cert = fileURLToPath(new URL('./test/fakes/voice-tls/cert.pem', import.meta.url));
  const existing = process.env.NODE_EXTRA_CA_CERTS;
  if (existing === cert) return;
  const bundle = join(mkdtempSync(join(tmpdir(), 'tracksmith-ca-')), 'bundle.pem');
  const parts = [existing ? readFileSync(existing, 'utf8') : '', readFileSync(cert, 'utf8')];
  writeFileSync(bundle, parts.filter(Boolean).join('\n'));
  process.env.NODE_EXTRA_CA_CERTS = bundle;
}
trustVoiceTestCertificate();

// Every test file runs in a fresh worker process that loads discord.js, BullMQ, Fastify and the
// rest again: Node's compile cache keeps their compiled code between workers and between runs.
// Set here, before vitest forks its workers, so that they inherit it.
process.env.NODE_COMPILE_CACHE ??= compileCacheEnv.NODE_COMPILE_CACHE;

const shared = {
  // Tests wait for events, not for time; these only bound a test that hangs. CI runs the whole
  // suite on two cores with four files at once, and there a test can take ten times as long as it
  // does alone (a Chromium sign-in: 1.8 s alone, 7 s in a CI run), so the bounds are wide.
  testTimeout: 60_000,
  hookTimeout: 90_000,
  // End-to-end files each start their own fakes on ephemeral ports, so they can run in parallel.
  pool: 'forks' as const,
  // A worker process runs file after file of its project instead of one fresh process per file,
  // which would load discord.js, BullMQ, Fastify and the rest again each time (about a second and
  // a half of CPU per file). Every file starts its own apps and fakes and closes them, keeps no
  // state in modules, and mocks nothing, so files cannot see each other.
  isolate: false,
  // One line and a stop when PostgreSQL or Redis is missing, before any test file runs.
  globalSetup: ['test/support/services-check.ts'],
};

export default defineConfig({
  test: {
    // Most of a test's time is spent waiting on loopback peers and child processes, not on CPU,
    // so more files than cores run at once (vitest's default on 2 cores is one).
    maxWorkers: Math.max(4, availableParallelism() * 2),
    // The longest files first across both projects, so that none of them starts last.
    sequence: { sequencer: LongestFirst },
    projects: [
      { test: { ...shared, name: 'tracksmith', include: ['test/**/*.test.ts'], exclude: ['test/scale/**'] } },
      {
        // The same end-to-end suite again with every job on the BullMQ queue in Redis (127.0.0.1:6379,
        // a key prefix per test): the queue's contract is that callers cannot tell which they have.
        test: {
          ...shared,
          name: 'e2e-redis',
          include: ['test/e2e/**/*.test.ts'],
          exclude: [
            // The command-line and crash tests start the bot as processes of their own, which take
            // no queue setting from here: a second pass would repeat the first.
            'test/e2e/cli.test.ts',
            'test/e2e/crash.test.ts',
            'test/e2e/resubmit.test.ts',
            // The acknowledgement lull is the in-process queue's own (the test asks for that queue).
            'test/e2e/burst-ack.test.ts',
            // Refused before anything is queued: crafted frames never reach the queue, and the
            // request that shows the bot still serves is the /music that music.test.ts runs here.
            'test/e2e/crafted-frames.test.ts',
            // Voice takes each delivered track from the delivery step, the same on either queue;
            // the one path through Redis (a worker's delivery reaching the gateway) is the file's
            // own Redis test, which sets up its gateway and worker itself.
            'test/e2e/voice.test.ts',
          ],
          env: { TEST_QUEUE: 'redis' },
        },
      },
      {
        // `npm run test:scale`: a gateway and three workers as processes; not part of `npm test`.
        test: { ...shared, name: 'scale', include: ['test/scale/**/*.test.ts'], testTimeout: 300_000 },
      },
    ],
  },
});
