import { ApplicationCommandOptionType, MessageFlags, PermissionFlagsBits } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { member, music } from '../support/commands.js';
import type { RecordedRequest } from '../fakes/discord.js';
import { isCallback, isFinalEdit, startHarness, type Harness, TRACK_FILE_TYPES } from '../support/harness.js';

const moderator = { id: '200000000000000007', username: 'mod' };
const manageGuild = PermissionFlagsBits.ManageGuild.toString();

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

type Option = { name: string; type: number; value?: string | number | boolean; options?: Option[] };
const int = (name: string, value: number): Option => ({
  name,
  type: ApplicationCommandOptionType.Integer,
  value,
});

function settingsCommand(
  h: Harness,
  user: { id: string; username: string },
  sub: Option,
  permissions = manageGuild,
) {
  return h.discord.chatInput({ name: 'music-settings', user, permissions, options: [sub] });
}

/** The callback's message text and flags. */
async function answer(h: Harness, interaction: { id: string }) {
  const callback = await h.discord.waitForRequest((r) =>
    r.path.startsWith(`/interactions/${interaction.id}/`),
  );
  const body = callback.body as {
    type: number;
    data?: { content?: string; flags?: number; embeds?: { description?: string }[] };
  };
  return {
    type: body.type,
    content: body.data?.content ?? '',
    ephemeral: ((body.data?.flags ?? 0) & MessageFlags.Ephemeral) !== 0,
    embeds: body.data?.embeds ?? [],
  };
}

describe('per-server limits end to end', () => {
  it('a moderator sets a daily limit and a member who reaches it is refused with the reset time', async () => {
    const h = (harness = await startHarness());
    const set = settingsCommand(h, moderator, { name: 'set', type: 1, options: [int('user-daily', 1)] });
    const confirmation = await answer(h, set);
    expect(confirmation.ephemeral).toBe(true);
    expect(confirmation.content).toContain('**user-daily**: 25 → 1');

    const first = music(h.discord, 'first take');
    await h.discord.waitForRequest(isFinalEdit(first.token));
    const second = music(h.discord, 'second take');
    const refusal = await answer(h, second);
    expect(refusal.ephemeral).toBe(true);
    expect(refusal.content).toMatch(
      /^You have used all 1 of your tracks for today on this server; the count resets <t:\d+:R>\.$/,
    );
    expect(h.aiml.requests.filter((r) => r.route === 'create')).toHaveLength(1);

    // Another member still has their own allowance.
    const other = music(h.discord, 'my turn', { user: { id: '200000000000000043', username: 'other' } });
    expect((await answer(h, other)).ephemeral).toBe(false);
  });

  it('refuses /music-settings to a member without Manage Server, even from a crafted payload', async () => {
    const h = (harness = await startHarness());
    const attempt = settingsCommand(
      h,
      member,
      { name: 'set', type: 1, options: [int('user-daily', 0)] },
      '0',
    );
    const refusal = await answer(h, attempt);
    expect(refusal).toMatchObject({
      ephemeral: true,
      content: "You need the Manage Server permission to change Tracksmith's settings.",
    });
    const show = settingsCommand(h, moderator, { name: 'show', type: 1 });
    const shown = await answer(h, show);
    expect(shown.embeds[0]?.description).toContain('**user-daily**: 25 (default 25)');
  });

  it('answers a crafted subcommand it does not have, even one named like a property of every object', async () => {
    const h = (harness = await startHarness());
    const crafted: Option[] = [
      { name: 'constructor', type: ApplicationCommandOptionType.Subcommand },
      {
        name: 'blocked-words',
        type: ApplicationCommandOptionType.SubcommandGroup,
        options: [{ name: 'toString', type: ApplicationCommandOptionType.Subcommand }],
      },
    ];
    for (const sub of crafted) {
      expect(await answer(h, settingsCommand(h, moderator, sub))).toMatchObject({
        ephemeral: true,
        content: 'That subcommand is not known. Try `/music-settings show`.',
      });
    }
  });

  it('rejects invalid values with every problem listed and changes nothing', async () => {
    const h = (harness = await startHarness());
    const attempt = settingsCommand(h, moderator, {
      name: 'set',
      type: 1,
      options: [int('max-length', 20), int('concurrent', 500)],
    });
    const reply = await answer(h, attempt);
    expect(reply.content).toBe(
      'Nothing was changed:\n- concurrent must be a whole number from 1 to 50; got 500.',
    );
    const again = settingsCommand(h, moderator, { name: 'set', type: 1, options: [int('max-length', 20)] });
    expect((await answer(h, again)).content).toBe(
      'Nothing was changed:\n- default-length (30 s) cannot be longer than max-length (20 s).',
    );
  });

  it('sets and clears the exempt role, and refuses both at once', async () => {
    const h = (harness = await startHarness());
    const role = {
      name: 'exempt-role',
      type: ApplicationCommandOptionType.Role,
      value: '500000000000000001',
    };
    const clear = { name: 'clear-exempt-role', type: ApplicationCommandOptionType.Boolean, value: true };
    const set = await answer(h, settingsCommand(h, moderator, { name: 'set', type: 1, options: [role] }));
    expect(set.content).toContain('**exempt-role**: none → <@&500000000000000001>');
    const both = await answer(
      h,
      settingsCommand(h, moderator, { name: 'set', type: 1, options: [role, clear] }),
    );
    expect(both.content).toBe('Nothing was changed: give exempt-role or clear-exempt-role, not both.');
    const cleared = await answer(
      h,
      settingsCommand(h, moderator, { name: 'set', type: 1, options: [clear] }),
    );
    expect(cleared.content).toContain('**exempt-role**: <@&500000000000000001> → none');
  });

  it('blocked words refuse a prompt, whatever its case and accents', async () => {
    const h = (harness = await startHarness());
    const add = settingsCommand(h, moderator, {
      name: 'blocked-words',
      type: 2,
      options: [{ name: 'add', type: 1, options: [{ name: 'word', type: 3, value: 'Kazoo' }] }],
    });
    expect((await answer(h, add)).content).toBe('Prompts containing `kazoo` will be refused.');
    const refused = await answer(h, music(h.discord, 'A KAZOO orchestra'));
    expect(refused).toMatchObject({
      ephemeral: true,
      content: 'This server does not allow the word "kazoo" in prompts. Reword the prompt and try again.',
    });
    expect(h.aiml.requests).toEqual([]);
  });

  it('requests beyond the server’s concurrency wait in line with their position, then all deliver', async () => {
    const h = (harness = await startHarness({ aiml: { generationMs: 400 } }));
    await answer(h, settingsCommand(h, moderator, { name: 'set', type: 1, options: [int('concurrent', 1)] }));
    const members = ['200000000000000051', '200000000000000052', '200000000000000053'];
    // One at a time, so the line's order is the order the requests arrived in.
    const interactions: { id: string; token: string }[] = [];
    for (const [i, id] of members.entries()) {
      interactions.push(music(h.discord, `take ${i}`, { user: { id, username: `m${i}` } }));
      await answer(h, interactions[i]!);
    }
    const waiting = await h.discord.waitForRequest(
      (r) =>
        r.path.includes(interactions[2]!.token) &&
        String((r.body as { content?: string } | undefined)?.content).includes('position 2.'),
    );
    expect((waiting.body as { content: string }).content).toBe(
      "⏳ <@200000000000000053>'s 30-second track is waiting in line: position 2.",
    );
    for (const interaction of interactions) await h.discord.waitForRequest(isFinalEdit(interaction.token));
    const creates = h.aiml.requests.filter((r) => r.route === 'create');
    expect(creates.map((r) => (r.body as { prompt: string }).prompt)).toEqual(['take 0', 'take 1', 'take 2']);
  });

  it('serves a burst of 50 members at once, ten at a time by default', async () => {
    const h = (harness = await startHarness({ aiml: { generationMs: 150 } }));
    const burst = Array.from({ length: 50 }, (_, i) =>
      music(h.discord, `burst ${i}`, {
        user: { id: `2000000000000010${String(i).padStart(2, '0')}`, username: `m${i}` },
      }),
    );
    for (const interaction of burst) await h.discord.waitForRequest(isFinalEdit(interaction.token), 60_000);
    const finals = burst.map((i) => h.discord.requests.find(isFinalEdit(i.token))!);
    expect(finals.every((r) => r.files.length === TRACK_FILE_TYPES.length)).toBe(true);
    expect(h.aiml.jobs.size).toBe(50);
    const inLine = (r: RecordedRequest) =>
      String((r.body as { content?: string } | undefined)?.content).includes('in line');
    // Every waiting member hears a position...
    expect(h.discord.requests.filter(inLine).length).toBeGreaterThanOrEqual(40);
    // ...but not one edit per change of it: a reply's position edits go out at least 3 s apart,
    // all after its acknowledgement and before its track, however long a loaded machine makes that.
    for (const { token } of burst) {
      const acknowledged = h.discord.requests.find(isCallback(token))!.at;
      const delivered = h.discord.requests.find(isFinalEdit(token))!.at;
      const positions = h.discord.requests.filter((r) => r.path.includes(token) && inLine(r));
      expect(positions.length).toBeLessThanOrEqual(Math.floor((delivered - acknowledged) / 3_000) + 1);
    }
    // Each delivery decodes its track for the waveform: 50 of them need room on a busy machine (with the other files' work beside them).
  }, 120_000);

  it('shows today’s usage with each member’s remaining allowance', async () => {
    const h = (harness = await startHarness());
    await answer(h, settingsCommand(h, moderator, { name: 'set', type: 1, options: [int('user-daily', 3)] }));
    const done = music(h.discord, 'one');
    await h.discord.waitForRequest(isFinalEdit(done.token));
    const usage = await answer(h, settingsCommand(h, moderator, { name: 'usage', type: 1 }));
    const text = usage.embeds[0]?.description ?? '';
    expect(text).toMatch(/^\*\*Today\*\*: 1 tracks, 300 credits; resets <t:\d+:R>/);
    expect(text).toContain(`<@${member.id}>: 1 (2 left)`);
  });

  it('keeps settings and the day’s usage across a restart', async () => {
    const h = (harness = await startHarness({ fileStore: true }));
    await answer(h, settingsCommand(h, moderator, { name: 'set', type: 1, options: [int('user-daily', 1)] }));
    const first = music(h.discord, 'before restart');
    await h.discord.waitForRequest(isFinalEdit(first.token));

    await h.restart();

    const refused = await answer(h, music(h.discord, 'after restart'));
    expect(refused.content).toContain('You have used all 1 of your tracks for today');
    const shown = await answer(h, settingsCommand(h, moderator, { name: 'show', type: 1 }));
    expect(shown.embeds[0]?.description).toContain('**user-daily**: 1 (default 25)');
  });
});
