import { writeFile } from 'node:fs/promises';
import { ApplicationCommandOptionType, PermissionFlagsBits } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeMessage, RecordedRequest } from '../fakes/discord.js';
import { music } from '../support/commands.js';
import {
  isFinalEdit,
  isPictureEdit,
  startHarness,
  type Harness,
  TRACK_ATTACHMENT_TYPES,
} from '../support/harness.js';
import { eventually } from '../support/log.js';
import { transcript } from '../support/transcript.js';

const ada = { id: '200000000000000101', username: 'ada' };
const ben = { id: '200000000000000102', username: 'ben' };
const cleo = { id: '200000000000000103', username: 'cleo' };
const mod = { id: '200000000000000107', username: 'mod' };
const names = { [ada.id]: 'ada', [ben.id]: 'ben', [cleo.id]: 'cleo', [mod.id]: 'mod' };
const manageMessages = PermissionFlagsBits.ManageMessages.toString();
const manageGuild = PermissionFlagsBits.ManageGuild.toString();
type User = typeof ada;

const guildA = {
  id: '100000000000000001',
  channels: [{ id: '100000000000000002', name: 'general', type: 0 }],
};
const guildB = { id: '100000000000000003', channels: [{ id: '100000000000000004', name: 'jam', type: 0 }] };

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(options?: Parameters<typeof startHarness>[0]): Promise<Harness> {
  harness = await startHarness({ ...options, discord: { guilds: [guildA, guildB], ...options?.discord } });
  return harness;
}

type Body = {
  type?: number;
  content?: string;
  title?: string;
  custom_id?: string;
  flags?: number;
  data?: Body;
  embeds?: { title?: string; description?: string; fields?: { name: string; value: string }[] }[];
  components?: { components: { custom_id: string; label?: string; value?: string; disabled?: boolean }[] }[];
};
const bodyOf = (r: RecordedRequest) => r.body as Body;

function showTrack(h: Harness, user: User, number: number) {
  return h.discord.chatInput({
    name: 'tracks',
    user,
    options: [
      {
        name: 'show',
        type: ApplicationCommandOptionType.Subcommand,
        options: [{ name: 'number', type: ApplicationCommandOptionType.Integer, value: number }],
      },
    ],
  });
}

/** The interaction's first answer (reply, defer, update or modal). */
function callback(h: Harness, interaction: { id: string }) {
  return h.discord.waitForRequest((r) => r.path.startsWith(`/interactions/${interaction.id}/`));
}

/** The edit that ends a job: the first one with an embed. */
function finalEdit(h: Harness, token: string, timeoutMs = 10_000) {
  return h.discord.waitForRequest(isFinalEdit(token), timeoutMs);
}

/** The final edit of a delivered track, once the edit adding its waveform has followed. */
async function trackWithPicture(h: Harness, token: string) {
  const final = await finalEdit(h, token);
  await h.discord.waitForRequest(isPictureEdit(token));
  return final;
}

function fieldsOf(r: RecordedRequest): Record<string, string> {
  return Object.fromEntries((bodyOf(r).embeds?.[0]?.fields ?? []).map((f) => [f.name, f.value]));
}

/** The custom_id of the button with this label on a message the fake holds. */
function buttonOn(message: FakeMessage, label: string): string {
  const rows = message.components as NonNullable<Body['components']>;
  const button = rows.flatMap((row) => row.components).find((c) => c.label === label);
  if (!button) throw new Error(`no ${label} button on message ${message.id}`);
  return button.custom_id;
}

function click(
  h: Harness,
  user: User,
  message: FakeMessage,
  label: string,
  extra: { permissions?: string } = {},
) {
  return h.discord.button({ user, customId: buttonOn(message, label), message, ...extra });
}

/** A private answer's text. */
async function privateAnswer(h: Harness, interaction: { id: string }): Promise<string> {
  const answer = bodyOf(await callback(h, interaction));
  expect(answer.type).toBe(4);
  expect((answer.data?.flags ?? 0) & 64).toBe(64);
  return answer.data?.content ?? '';
}

/** Makes a track with /music and returns its message once delivered. */
async function makeTrack(h: Harness, user: User, prompt: string, extra: { guildId?: string } = {}) {
  const interaction = music(h.discord, prompt, { user, ...extra });
  const final = await trackWithPicture(h, interaction.token);
  return { interaction, final, message: h.discord.originalResponse(interaction.token)! };
}

/** Clicks Remix, checks the form is pre-filled, submits it with `prompt`, and waits for the new track. */
async function remix(h: Harness, user: User, parent: FakeMessage, prompt: string, length = '20') {
  const opened = click(h, user, parent, 'Remix');
  const modal = bodyOf(await callback(h, opened));
  expect(modal.type).toBe(9);
  const inputs = modal.data?.components?.flatMap((row) => row.components) ?? [];
  const submitted = h.discord.modalSubmit({
    user,
    customId: modal.data?.custom_id ?? '',
    message: parent,
    fields: [
      { customId: 'prompt', value: prompt },
      { customId: 'length', value: length },
    ],
  });
  const final = await trackWithPicture(h, submitted.token);
  return { inputs, final, message: h.discord.originalResponse(submitted.token)! };
}

const usage = (h: Harness) =>
  h.app.database.db.selectFrom('usage').selectAll().orderBy('requested_at').orderBy('id').execute();

describe('making music together', () => {
  it('a remix chain of three tracks by three members credits each parent, and /tracks shows the lineage', async () => {
    const h = await start();
    const first = await makeTrack(h, ada, 'Lo-fi hip hop with warm Rhodes chords and vinyl crackle');
    expect(bodyOf(first.final).embeds?.[0]?.title).toBe('🎵 Track #1');

    const second = await remix(
      h,
      ben,
      first.message,
      'Lo-fi hip hop with warm Rhodes, now with a jazzy upright bass',
    );
    // The form came pre-filled with the parent's prompt and length.
    expect(second.inputs.map((i) => [i.custom_id, i.value])).toEqual([
      ['prompt', 'Lo-fi hip hop with warm Rhodes chords and vinyl crackle'],
      ['length', '30'],
    ]);
    expect(bodyOf(second.final).embeds?.[0]?.title).toBe('🎵 Track #2');
    expect(fieldsOf(second.final)).toMatchObject({
      'Requested by': `<@${ben.id}>`,
      'Builds on': `Remix of #1 by <@${ada.id}>`,
      Length: '20 s requested · 20.0 s actual',
    });

    const third = await remix(
      h,
      cleo,
      second.message,
      'The same groove as a bossa nova with brushed drums',
      '25',
    );
    expect(bodyOf(third.final).embeds?.[0]?.title).toBe('🎵 Track #3');
    expect(fieldsOf(third.final)).toMatchObject({
      'Requested by': `<@${cleo.id}>`,
      'Builds on': `Remix of #2 by <@${ben.id}>`,
    });
    // Each remix is a new message; the parents keep their own tracks.
    for (const message of [first.message, second.message, third.message]) {
      expect(message.attachments.map((a) => a.content_type)).toEqual(TRACK_ATTACHMENT_TYPES);
    }
    expect(new Set([first.message.id, second.message.id, third.message.id]).size).toBe(3);

    const show = showTrack(h, ada, 3);
    const shown = bodyOf(await callback(h, show)).data!;
    const fields = Object.fromEntries((shown.embeds?.[0]?.fields ?? []).map((f) => [f.name, f.value]));
    expect(shown.embeds?.[0]?.title).toBe('🎵 Track #3');
    expect(fields['Builds on']).toBe(`Remix of #2 by <@${ben.id}>\n↳ Remix of #1 by <@${ada.id}>`);
    expect(fields.Message).toBe(
      `[open](https://discord.com/channels/${guildA.id}/${guildA.channels[0]!.id}/${third.message.id})`,
    );

    const showFirst = showTrack(h, ada, 1);
    const firstShown = bodyOf(await callback(h, showFirst)).data!;
    expect(firstShown.embeds?.[0]?.fields?.find((f) => f.name === 'Remixes and new takes')?.value).toBe(
      `#2 (remix by <@${ben.id}>)`,
    );

    const rows = await usage(h);
    expect(rows.map((r) => [r.track_number, r.kind, r.user_id, r.parent_id])).toEqual([
      [1, 'music', ada.id, null],
      [2, 'remix', ben.id, rows[0]!.id],
      [3, 'remix', cleo.id, rows[1]!.id],
    ]);

    const story = transcript(h.discord, names);
    expect(story).toContain('→ ben submits form [track:remix:');
    expect(story).toMatch(/embed "🎵 Track #3" .*Builds on: Remix of #2 by @ben/);
    if (process.env.TRANSCRIPT_FILE) await writeFile(process.env.TRANSCRIPT_FILE, `${story}\n`);
  });

  it('Regenerate makes a new take for whoever clicks, in a new message, under their own limits', async () => {
    const h = await start();
    const original = await makeTrack(h, ada, 'Driving synthwave');
    const before = structuredClone(original.message.attachments);

    const again = click(h, ben, original.message, 'Regenerate');
    const deferred = bodyOf(await callback(h, again));
    expect(deferred.type).toBe(5);
    expect((deferred.data?.flags ?? 0) & 64).toBe(0);
    const final = await finalEdit(h, again.token);
    expect(bodyOf(final).embeds?.[0]?.title).toBe('🎵 Track #2');
    expect(fieldsOf(final)).toMatchObject({
      'Requested by': `<@${ben.id}>`,
      'Builds on': `New take of #1 by <@${ada.id}>`,
    });
    expect(h.discord.originalResponse(again.token)?.id).not.toBe(original.message.id);
    expect(h.discord.messages.get(original.message.id)?.attachments).toEqual(before);
    const prompts = h.aiml.requests.filter((r) => r.route === 'create').map((r) => r.body);
    expect(prompts[1]).toEqual(prompts[0]);

    // Ben's own daily limit applies to his clicks.
    const limit = h.discord.chatInput({
      name: 'music-settings',
      user: mod,
      permissions: manageGuild,
      options: [
        {
          name: 'set',
          type: 1,
          options: [{ name: 'user-daily', type: ApplicationCommandOptionType.Integer, value: 1 }],
        },
      ],
    });
    await callback(h, limit);
    const refused = click(h, ben, original.message, 'Regenerate');
    expect(await privateAnswer(h, refused)).toMatch(/^You have used all 1 of your tracks for today/);
    expect(h.aiml.requests.filter((r) => r.route === 'create')).toHaveLength(2);
  });

  it('Cancel while generating stops tracking, says who cancelled, and gives the slot back', async () => {
    const h = await start();
    h.aiml.script({ outcome: 'stuck' });
    const interaction = music(h.discord, 'An endless drone', { user: ada });
    await h.discord.waitForRequest(
      (r) =>
        r.path.endsWith(`/${interaction.token}/messages/@original`) &&
        String(bodyOf(r).content).startsWith('🎼'),
    );
    const progress = h.discord.originalResponse(interaction.token)!;
    expect(buttonOn(progress, 'Cancel')).toMatch(/^track:cancel:[0-9a-f-]{36}$/);

    const cancel = click(h, ada, progress, 'Cancel');
    expect(bodyOf(await callback(h, cancel)).type).toBe(6);
    const final = await finalEdit(h, interaction.token);
    expect(bodyOf(final).embeds?.[0]).toMatchObject({
      title: '⏹️ Cancelled',
      description: `<@${ada.id}> cancelled this 30-second track.`,
    });
    // The ledger is written just after the edit.
    await eventually(async () => (await usage(h))[0]?.status === 'cancelled');
    const [row] = await usage(h);
    expect([row?.status, row?.error, row?.interaction_token]).toEqual([
      'cancelled',
      `cancelled by ${ada.id}`,
      null,
    ]);
    const [cancelled] = [...h.aiml.jobs.keys()];
    const pollsOf = (id: string | undefined) =>
      h.aiml.requests.filter((r) => r.route === 'poll' && r.query.get('generation_id') === id).length;
    const polls = pollsOf(cancelled);
    // Another member's request, made to take 600 ms, checked and delivered meanwhile: longer than
    // the longest gap between two checks of one generation (500 ms), so a cancelled generation
    // still being followed would have been checked again by the time it lands.
    h.aiml.script({ generationMs: 600 });
    await finalEdit(h, music(h.discord, 'After the drone', { user: ben }).token);
    expect(pollsOf(cancelled)).toBe(polls);
    expect(h.logs.text()).toContain('job cancelled');
  });

  it('Cancel in line never submits; only the requester or a moderator may cancel', async () => {
    const h = await start({ env: { MAX_CONCURRENT_GENERATIONS: '1' } });
    h.aiml.script({ outcome: 'stuck' });
    const running = music(h.discord, 'first in', { user: ada });
    await callback(h, running);
    const waiting = music(h.discord, 'second in line', { user: ben });
    await h.discord.waitForRequest(
      (r) =>
        r.path.endsWith(`/${waiting.token}/messages/@original`) &&
        String(bodyOf(r).content).includes('position 1.'),
    );
    const queued = h.discord.originalResponse(waiting.token)!;

    const stranger = click(h, cleo, queued, 'Cancel');
    expect(await privateAnswer(h, stranger)).toBe(`Only <@${ben.id}> or a moderator can cancel this track.`);

    const byMod = click(h, mod, queued, 'Cancel', { permissions: manageMessages });
    expect(bodyOf(await callback(h, byMod)).type).toBe(6);
    const final = await finalEdit(h, waiting.token);
    expect(bodyOf(final).embeds?.[0]?.description).toBe(`<@${mod.id}> cancelled this 30-second track.`);
    expect(
      h.aiml.requests.filter((r) => r.route === 'create').map((r) => (r.body as { prompt: string }).prompt),
    ).toEqual(['first in']);

    // The running one is cancelled too; a click after that finds nothing to cancel.
    const first = h.discord.originalResponse(running.token)!;
    const cancelFirst = click(h, ada, first, 'Cancel');
    await finalEdit(h, running.token);
    const late = h.discord.button({
      user: ada,
      customId: buttonOn(first, 'Regenerate').replace('regenerate', 'cancel'),
      message: first,
    });
    expect(await privateAnswer(h, late)).toBe(
      'This request is not running any more, so there is nothing to cancel.',
    );
    expect(bodyOf(await callback(h, cancelFirst)).type).toBe(6);
  });

  it('Delete removes the message for the requester or a moderator, and the history keeps the record', async () => {
    const h = await start();
    const track = await makeTrack(h, ada, 'Glitchy IDM');

    const stranger = click(h, ben, track.message, 'Delete');
    expect(await privateAnswer(h, stranger)).toBe(`Only <@${ada.id}> or a moderator can delete this track.`);
    expect(h.discord.messages.has(track.message.id)).toBe(true);

    const own = click(h, ada, track.message, 'Delete');
    const deferred = bodyOf(await callback(h, own));
    expect([deferred.type, (deferred.data?.flags ?? 0) & 64]).toEqual([5, 64]);
    const confirmation = await h.discord.waitForRequest(
      (r) => r.method === 'PATCH' && r.path.endsWith(`/${own.token}/messages/@original`),
    );
    expect(bodyOf(confirmation).content).toBe(
      'Deleted track #1. Its record stays in `/tracks show number:1`.',
    );
    const deletion = h.discord.requests.find((r) => r.method === 'DELETE');
    expect(deletion?.path).toBe(`/channels/${guildA.channels[0]!.id}/messages/${track.message.id}`);
    expect(h.discord.messages.has(track.message.id)).toBe(false);

    const show = showTrack(h, ben, 1);
    const shown = bodyOf(await callback(h, show)).data!;
    expect(shown.embeds?.[0]?.fields?.find((f) => f.name === 'Message')?.value).toMatch(
      new RegExp(`^deleted by <@${ada.id}> <t:\\d+:R>$`),
    );
  });

  it('/compose combines style and lyrics into one prompt, and refuses what does not fit with the text attached', async () => {
    const h = await start();
    const open = h.discord.chatInput({ name: 'compose', user: ada });
    const modal = bodyOf(await callback(h, open));
    expect(modal.type).toBe(9);
    expect(modal.data?.title).toBe('Compose a song');
    expect(modal.data?.components?.flatMap((row) => row.components).map((c) => c.custom_id)).toEqual([
      'style',
      'lyrics',
      'vocals',
      'length',
    ]);

    const style = 'Warm indie folk, finger-picked guitar, soft vocals';
    const lyrics = '[Verse]\nMorning light on the harbour\n[Chorus]\nHold on, hold on';
    const submitted = h.discord.modalSubmit({
      user: ada,
      customId: modal.data?.custom_id ?? '',
      fields: [
        { customId: 'style', value: style },
        { customId: 'lyrics', value: lyrics },
        { customId: 'length', value: ' 45 ' },
      ],
    });
    await finalEdit(h, submitted.token);
    const create = h.aiml.requests.find((r) => r.route === 'create');
    expect(create?.body).toEqual({
      model: 'elevenlabs/eleven_music',
      prompt: `${style}\n\nLyrics:\n${lyrics}`,
      music_length_ms: 45_000,
    });
    expect((await usage(h))[0]?.kind).toBe('compose');

    const tooLong = h.discord.modalSubmit({
      user: ada,
      customId: 'compose:submit',
      fields: [
        { customId: 'style', value: 's'.repeat(1200) },
        { customId: 'lyrics', value: 'l'.repeat(900) },
        { customId: 'length', value: '' },
      ],
    });
    const refusal = await callback(h, tooLong);
    expect(bodyOf(refusal).data?.content).toBe(
      'The style (1,200 characters) and lyrics (900) come to 2,110 characters together; the limit is 2,000. Cut 110 characters and try again.\nYour text is attached so nothing is lost.',
    );
    expect(
      refusal.files.map((f) => [f.name, f.data.toString().startsWith(`Style:\n${'s'.repeat(1200)}`)]),
    ).toEqual([['your-song.txt', true]]);

    const badLength = h.discord.modalSubmit({
      user: ada,
      customId: 'compose:submit',
      fields: [
        { customId: 'style', value: 'ambient' },
        { customId: 'lyrics', value: '' },
        { customId: 'length', value: 'ten' },
      ],
    });
    expect(await privateAnswer(h, badLength)).toBe(
      'The length must be a whole number of seconds from 10 to 300; got "ten".',
    );
    expect(h.aiml.requests.filter((r) => r.route === 'create')).toHaveLength(1);
    expect(await usage(h)).toHaveLength(1);
  });

  it('/tracks recent pages through the server’s tracks with Newer and Older', async () => {
    const h = await start({ aiml: { generationMs: 60 } });
    const made = Array.from({ length: 12 }, (_, i) =>
      music(h.discord, `idea ${i + 1}`, { user: [ada, ben, cleo][i % 3]! }),
    );
    // Twelve deliveries, each decoding its track for the waveform: room for a busy machine.
    for (const interaction of made) await finalEdit(h, interaction.token, 30_000);
    // Each track is recorded just after its final edit: all twelve, before listing them.
    await eventually(async () => {
      const rows = await usage(h);
      return rows.length === made.length && rows.every((r) => r.status === 'completed');
    });

    const recent = h.discord.chatInput({
      name: 'tracks',
      user: ada,
      options: [{ name: 'recent', type: ApplicationCommandOptionType.Subcommand }],
    });
    const pageOne = bodyOf(await callback(h, recent));
    expect((pageOne.data?.flags ?? 0) & 64).toBe(64);
    const lines = (pageOne.data?.embeds?.[0]?.description ?? '').split('\n');
    expect(lines.map((l) => /^\*\*#(\d+)\*\*/.exec(l)?.[1])).toEqual([
      '12',
      '11',
      '10',
      '9',
      '8',
      '7',
      '6',
      '5',
      '4',
      '3',
    ]);
    const controls = pageOne.data?.components?.[0]?.components ?? [];
    expect(controls.map((c) => [c.label, c.disabled])).toEqual([
      ['Newer', true],
      ['Older', false],
    ]);

    const list = h.discord.originalResponse(recent.token)!;
    const older = h.discord.button({ user: ada, customId: controls[1]!.custom_id, message: list });
    const pageTwo = bodyOf(await callback(h, older));
    expect(pageTwo.type).toBe(7);
    const second = (pageTwo.data?.embeds?.[0]?.description ?? '').split('\n');
    expect(second.map((l) => /^\*\*#(\d+)\*\*/.exec(l)?.[1])).toEqual(['2', '1']);
    expect(pageTwo.data?.components?.[0]?.components.map((c) => [c.label, c.disabled])).toEqual([
      ['Newer', false],
      ['Older', true],
    ]);

    const tampered = h.discord.button({ user: ada, customId: 'tracks:older:abc', message: list });
    expect(await privateAnswer(h, tampered)).toBe(
      'That page button is not one Tracksmith recognises. Run /tracks recent again.',
    );
  });

  it('serves servers round-robin under MAX_CONCURRENT_GENERATIONS, then members within a server', async () => {
    const h = await start({ env: { MAX_CONCURRENT_GENERATIONS: '1' }, aiml: { generationMs: 120 } });
    const order: [User, string, string][] = [
      [ada, guildA.id, 'A ada 1'],
      [ada, guildA.id, 'A ada 2'],
      [ada, guildA.id, 'A ada 3'],
      [ben, guildA.id, 'A ben 1'],
      [cleo, guildB.id, 'B cleo 1'],
    ];
    const interactions: { id: string; token: string }[] = [];
    // One at a time, so arrival order is certain.
    for (const [user, guildId, prompt] of order) {
      const interaction = music(h.discord, prompt, { user, guildId });
      await callback(h, interaction);
      interactions.push(interaction);
    }
    // The quiet server's member is told they are next, though they arrived last.
    await h.discord.waitForRequest(
      (r) =>
        r.path.endsWith(`/${interactions[4]!.token}/messages/@original`) &&
        String(bodyOf(r).content).includes('position 1.'),
    );
    for (const interaction of interactions) await finalEdit(h, interaction.token);
    const creates = h.aiml.requests
      .filter((r) => r.route === 'create')
      .map((r) => (r.body as { prompt: string }).prompt);
    expect(creates).toEqual(['A ada 1', 'B cleo 1', 'A ben 1', 'A ada 2', 'A ada 3']);
  });

  it('refuses tampered and foreign buttons without touching anything', async () => {
    const h = await start();
    const track = await makeTrack(h, ada, 'Chiptune boss battle');
    const id = buttonOn(track.message, 'Delete').split(':')[2]!;

    const foreign = h.discord.button({
      user: ben,
      guildId: guildB.id,
      permissions: manageGuild,
      customId: `track:delete:${id}`,
      message: track.message,
    });
    expect(await privateAnswer(h, foreign)).toBe('That button belongs to a track from another server.');

    const crafted: [string, string][] = [
      [
        'track:regenerate:00000000-0000-0000-0000-000000000000',
        'That track is not in the history, so this button does nothing.',
      ],
      [
        "track:delete:'; DROP TABLE usage;--",
        'That button or form is not one Tracksmith recognises. Run the command again.',
      ],
      [`track:explode:${id}`, 'That button is not one Tracksmith recognises. Run the command again.'],
    ];
    for (const [customId, refusal] of crafted) {
      const click = h.discord.button({ user: ada, customId, message: track.message });
      expect(await privateAnswer(h, click)).toBe(refusal);
    }

    const foreignRemix = h.discord.modalSubmit({
      user: ben,
      guildId: guildB.id,
      customId: `track:remix:${id}`,
      fields: [{ customId: 'prompt', value: 'stolen' }],
    });
    expect(await privateAnswer(h, foreignRemix)).toBe('That button belongs to a track from another server.');

    expect(h.discord.messages.has(track.message.id)).toBe(true);
    expect(h.discord.requests.some((r) => r.method === 'DELETE')).toBe(false);
    expect(h.aiml.requests.filter((r) => r.route === 'create')).toHaveLength(1);
    expect(await usage(h)).toHaveLength(1);
    await eventually(() => h.logs.text().includes('button for a track of another server'));
  });
});
