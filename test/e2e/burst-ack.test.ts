import { afterEach, describe, expect, it } from 'vitest';
import { music } from '../support/commands.js';
import { isFinalEdit, startHarness, type Harness } from '../support/harness.js';

/**
 * The lull that puts a burst's acknowledgements before the work they start. It is a part of the
 * in-process queue, so this file is not run again on Redis (see vitest.config.ts).
 */
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('a burst of requests', () => {
  it('acknowledges every request of a burst before starting the work of any (in-process queue)', async () => {
    // A settle time far longer than the gaps inside a burst, so the order is the lull's, not luck's.
    const h = (harness = await startHarness({
      redis: false,
      aiml: { generationMs: 100 },
      app: { lull: { settleMs: 1_000, maxWaitMs: 60_000 } },
    }));
    const burst = Array.from({ length: 30 }, (_, i) =>
      music(h.discord, `ack first ${i}`, {
        user: { id: `2000000000000020${String(i).padStart(2, '0')}`, username: `a${i}` },
      }),
    );
    for (const interaction of burst) await h.discord.waitForRequest(isFinalEdit(interaction.token), 60_000);
    const acknowledged = burst.map(
      (interaction) =>
        h.discord.requests.find((r) => r.path.startsWith(`/interactions/${interaction.id}/`))!.at,
    );
    const submitted = h.aiml.requests.filter((r) => r.route === 'create').map((r) => r.at);
    expect(submitted).toHaveLength(30);
    expect(Math.max(...acknowledged)).toBeLessThanOrEqual(Math.min(...submitted));
    // Nor did any job show its place in line or its progress before the last acknowledgement.
    const edits = h.discord.requests.filter((r) => r.method === 'PATCH').map((r) => r.at);
    expect(Math.max(...acknowledged)).toBeLessThanOrEqual(Math.min(...edits));
    // Each delivery decodes its track for the waveform: 30 of them need room on a busy machine (with the other files' work beside them).
  }, 120_000);
});
