import { ApplicationCommandOptionType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { isFinalEdit, startHarness, type Harness, TRACK_FILE_TYPES } from '../support/harness.js';
import { eventually } from '../support/log.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('interaction tokens at rest', () => {
  it('are stored sealed while the request runs, still reach the reply after a restart, and are cleared at the end', async () => {
    harness = await startHarness({ fileStore: true, aiml: { generationMs: 800 } });
    const h = harness;
    const interaction = h.discord.chatInput({
      name: 'music',
      options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: 'sealed away' }],
    });
    // Accepted: the row exists, with its token.
    await h.discord.waitForRequest((r) => r.path.startsWith(`/interactions/${interaction.id}/`));
    const row = await h.app.database.db.selectFrom('usage').selectAll().executeTakeFirstOrThrow();
    expect(row.interaction_token?.startsWith('v1:')).toBe(true);
    expect(row.interaction_token).not.toContain(interaction.token);

    // A new process opens it with the same key (the file under DATA_DIR) and edits the same reply.
    await h.restart();
    const final = await h.discord.waitForRequest(isFinalEdit(interaction.token));
    expect(final.files.map((f) => f.contentType)).toEqual(TRACK_FILE_TYPES);
    // The ledger is written after the edit.
    const row2 = () => h.app.database.db.selectFrom('usage').selectAll().executeTakeFirstOrThrow();
    await eventually(async () => (await row2()).status === 'completed');
    expect((await row2()).interaction_token).toBeNull();
  });
});
