import { afterEach, describe, expect, it } from 'vitest';
import { shardOf } from '../fakes/discord.js';
import { music } from '../support/commands.js';
import { isFinalEdit, startHarness, type Harness, TRACK_FILE_TYPES } from '../support/harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

// Two servers whose events travel on different shards of two.
const even = { id: '100000000000000001', channels: [{ id: '100000000000000002', name: 'a', type: 0 }] };
const odd = { id: '100000000004194305', channels: [{ id: '100000000004194306', name: 'b', type: 0 }] };

describe('gateway sharding', () => {
  it.each([
    ['SHARD_COUNT=2', { SHARD_COUNT: '2' }, 1],
    ['SHARD_COUNT=auto, Discord recommending 2', { SHARD_COUNT: 'auto' }, 2],
  ])(
    '%s: one process runs both shards, and each server is served on its own',
    async (_, env, recommended) => {
      expect([shardOf(even.id, 2), shardOf(odd.id, 2)]).toEqual([0, 1]);
      const h = (harness = await startHarness({
        env,
        discord: { guilds: [even, odd], recommendedShards: recommended },
      }));
      expect(h.discord.shards().sort()).toEqual([
        [0, 2],
        [1, 2],
      ]);
      const first = music(h.discord, 'on shard zero', { guildId: even.id });
      const second = music(h.discord, 'on shard one', { guildId: odd.id });
      for (const interaction of [first, second]) {
        const final = await h.discord.waitForRequest(isFinalEdit(interaction.token));
        expect(final.files.map((f) => f.contentType)).toEqual(TRACK_FILE_TYPES);
        // Answered once: each interaction reached exactly one shard.
        expect(h.discord.callbacks(interaction.id)).toHaveLength(1);
      }
      expect(h.aiml.requests.filter((r) => r.route === 'create')).toHaveLength(2);
    },
  );
});
