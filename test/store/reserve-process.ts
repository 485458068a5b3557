/**
 * One of several processes racing to reserve slots in one store (see store.test.ts).
 * Usage: tsx reserve-process.ts <database-url> <first-id> <count> <start-at-ms>
 */
import { createReserver } from '../../src/limits/reserve.js';
import { openDatabase } from '../../src/store/db.js';

const [url, first, count, startAt] = process.argv.slice(2);
const store = await openDatabase({ url, dataDir: '.' });
// Start together with the other processes so their transactions really overlap.
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
// Through the group-committing reserver, as the bot reserves: each process's burst goes in batches
// whose transactions race those of the other processes.
const reserve = createReserver(store.db);
const results = await Promise.all(
  Array.from({ length: Number(count) }, (_, i) =>
    reserve({
      id: `p-${first}-${i}`,
      guildId: '100000000000000001',
      channelId: '100000000000000002',
      userId: '200000000000000042',
      memberRoleIds: [],
      prompt: 'race',
      kind: 'music',
      lengthSeconds: undefined,
      reply: { applicationId: '110000000000000001', interactionToken: 'token', uploadLimitBytes: 10_485_760 },
      now: Date.now(),
    }),
  ),
);
await store.close();
console.log(JSON.stringify(results.map((r) => r.ok)));
