import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Rough durations (seconds, one file on a quiet 2-core machine) of the files that set the length
 * of a run, for runs with no timings of their own yet (a fresh checkout in CI).
 */
const KNOWN_SECONDS: Record<string, number> = {
  'test/outage/outage.test.ts': 75,
  'test/e2e/crash.test.ts': 40,
  'test/e2e/limits.test.ts': 30,
  'test/queue/roles.test.ts': 30,
  'test/e2e/collaboration.test.ts': 20,
  'test/e2e/songwriting.test.ts': 20,
  'test/e2e/durable.test.ts': 20,
  'test/e2e/voice.test.ts': 20,
  'test/e2e/burst-ack.test.ts': 20,
  'test/web/access.test.ts': 15,
  'test/e2e/cli.test.ts': 15,
  'test/store/store.test.ts': 15,
  'test/e2e/music.test.ts': 15,
};

/**
 * Starts the longest files first, whichever project they belong to. Vitest's own order runs one
 * project's files before the next project's, so a long file of the second project would start
 * only once the first project's files were all under way, and end the run long after the rest.
 * Each file's last recorded duration (vitest's cache) decides; the list above stands in for it.
 */
export class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    // Vitest's order (known failures first, then by duration or size) breaks ties.
    const ordered = await super.sort(files);
    const expected = (spec: TestSpecification) => {
      const cached = this.ctx.cache.getTestSpecificationResult(spec);
      if (cached && !cached.failed) return cached.duration;
      const known = Object.entries(KNOWN_SECONDS).find(([path]) => spec.moduleId.endsWith(path));
      return (known?.[1] ?? 0) * 1_000;
    };
    const durations = new Map(ordered.map((spec) => [spec, expected(spec)]));
    return [...ordered].sort((a, b) => (durations.get(b) ?? 0) - (durations.get(a) ?? 0));
  }
}
