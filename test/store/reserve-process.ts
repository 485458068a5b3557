/**
 * One of several processes racing to reserve slots in one store (see store.test.ts).
 * Usage: reserve-process <database-url> <first-id> <count>; prints "ready" once its store is open,
 * then reserves when a line arrives on stdin, so that the test starts every process's burst at once.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createReserver } from '../../src/limits/reserve.js';
import { openDatabase } from '../../src/store/db.js';

const [url, first, count] = process.argv.slice(2);
const store = await openDatabase({ url, dataDir: '.' });
// Start together with the other processes so their transactions really overlap.
const go = once(createInterface({ input: process.stdin }), 'line');
console.log('ready');
await go;
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
