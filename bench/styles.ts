import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { openDatabase } from '../src/store/db.js';
import { createTracksRepository } from '../src/store/tracks-repository.js';
import { createPopularStyles, styleChoices } from '../src/songwriting/styles.js';
import { percentile, seeded } from './support.js';

/**
 * The work behind one `/music style:` autocomplete answer: the server's favourite styles of the
 * last 30 days from the store, then matching against them and the curated list. Measured on SQLite
 * holding `tracks` tracks of one server spread over 60 days and 200 distinct styles: read from the
 * store on every answer (what a cache miss costs), and as the bot serves them, kept for 60 s.
 * Baseline: the same matching with the curated list alone (no store), the floor of any answer.
 */
export interface StylesRow {
  variant: string;
  tracksInStore: number;
  answers: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export async function stylesBench(tracks: number, answers = 300): Promise<StylesRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'tracksmith-bench-styles-'));
  const database = await openDatabase({ url: `sqlite://${join(dir, 'bench.sqlite')}`, dataDir: dir });
  const guildId = '100000000000000001';
  const now = Date.UTC(2026, 11, 1);
  const day = 24 * 3600 * 1000;
  const random = seeded(7);
  try {
    const rows = Array.from({ length: tracks }, (_, i) => ({
      id: `bench-${i}`,
      guild_id: guildId,
      channel_id: '100000000000000002',
      user_id: `2000000000000${String(i % 500).padStart(5, '0')}`,
      prompt: 'bench',
      length_seconds: 30,
      status: 'completed' as const,
      requested_at: now - Math.floor(random() * 60 * day),
      style: `Style ${Math.floor(random() ** 2 * 200)}`,
    }));
    for (let at = 0; at < rows.length; at += 500) {
      await database.db
        .insertInto('usage')
        .values(rows.slice(at, at + 500))
        .execute();
    }
    const repository = createTracksRepository(database.db);
    const queries = ['', 'sty', 'Style 1', 'jazz', 'x'.repeat(6000)];
    const time = async (answer: (typed: string) => Promise<string[]>) => {
      const values: number[] = [];
      for (let i = 0; i < answers; i++) {
        const started = performance.now();
        await answer(queries[i % queries.length] ?? '');
        values.push(performance.now() - started);
      }
      return values;
    };
    const withStore = await time(async (typed) =>
      styleChoices(typed, await repository.topStyles(guildId, now - 30 * day, 25)),
    );
    const curatedOnly = await time((typed) => Promise.resolve(styleChoices(typed, [])));
    const popular = createPopularStyles({
      load: (guild, since) => repository.topStyles(guild, since, 25),
      now: () => now,
    });
    const cached = await time(async (typed) => styleChoices(typed, await popular(guildId)));
    const row = (variant: string, values: number[]): StylesRow => ({
      variant,
      tracksInStore: tracks,
      answers: values.length,
      p50Ms: percentile(values, 0.5),
      p99Ms: percentile(values, 0.99),
      maxMs: Math.max(...values),
    });
    return [
      row('curated list only (baseline)', curatedOnly),
      row('favourites read every answer', withStore),
      row('favourites kept 60 s (as served)', cached),
    ];
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
}
