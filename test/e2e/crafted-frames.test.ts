import { ApplicationCommandOptionType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedRequest } from '../fakes/discord.js';
import { music } from '../support/commands.js';
import { isFinalEdit, startHarness, type Harness, TRACK_FILE_TYPES } from '../support/harness.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const member = { id: '200000000000000201', username: 'crafty' };
const other = { id: '200000000000000202', username: 'bystander' };
const unknownComponent = 'That button or form is not one Tracksmith recognises. Run the command again.';
const malformedCommand = 'That command arrived in a form Tracksmith does not recognise. Run it again.';

type Frame = Record<string, unknown>;
const dataOf = (frame: Frame) => frame.data as Frame;

const musicData = {
  id: '120000000000000001',
  name: 'music',
  type: 1,
  options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: 'crafted' }],
};

/** Each frame a modified client could send, the interaction type, and the refusal it must get. */
const crafted: [string, number, Frame, (frame: Frame) => void, string][] = [
  [
    'a button whose custom_id is a number',
    3,
    { custom_id: 'track:delete:abc', component_type: 2 },
    (f) => (dataOf(f).custom_id = 42),
    unknownComponent,
  ],
  [
    'a button with no message under it',
    3,
    { custom_id: 'track:delete:abc', component_type: 2 },
    (f) => delete f.message,
    unknownComponent,
  ],
  [
    'a modal submit whose components is an object',
    5,
    { custom_id: 'compose:submit', components: [] },
    (f) => (dataOf(f).components = { type: 1, components: 'style' }),
    unknownComponent,
  ],
  [
    'a modal field whose value is a number',
    5,
    { custom_id: 'compose:submit', components: [] },
    (f) => (dataOf(f).components = [{ type: 1, components: [{ type: 4, custom_id: 'style', value: 7 }] }]),
    unknownComponent,
  ],
  [
    'a /music whose options is a string',
    2,
    musicData,
    (f) => (dataOf(f).options = 'prompt'),
    malformedCommand,
  ],
  [
    'a /music whose resolved.users entries are strings',
    2,
    musicData,
    (f) => (dataOf(f).resolved = { users: { '200000000000000201': 'crafty' } }),
    malformedCommand,
  ],
  [
    'a /music whose option value is an object',
    2,
    musicData,
    (f) => (dataOf(f).options = [{ name: 'prompt', type: 3, value: { toString: 'x' } }]),
    malformedCommand,
  ],
  [
    'a /music whose member roles is a string',
    2,
    musicData,
    (f) => ((f.member as Frame).roles = 'admin'),
    malformedCommand,
  ],
];

describe('crafted gateway frames', () => {
  it.each(crafted)(
    'refuses %s privately and keeps answering everyone else',
    async (_case, type, data, craft, refusal) => {
      harness = await startHarness();
      const h = harness;
      const message = type === 3 ? h.discord.seedBotMessage('an earlier track') : undefined;
      const bad = h.discord.craftedInteraction(
        type,
        { user: member, data, ...(message ? { message } : {}) },
        craft,
      );
      const answer = await h.discord.waitForRequest((r) => r.path.startsWith(`/interactions/${bad.id}/`));
      const body = answer.body as {
        type: number;
        data: { content: string; flags: number; allowed_mentions: unknown };
      };
      expect(body.type).toBe(4);
      expect(body.data.flags & 64).toBe(64);
      expect(body.data.content).toBe(refusal);
      expect(body.data.allowed_mentions).toEqual({ parse: [] });

      // The bot still acknowledges and serves another member afterwards.
      const good = music(h.discord, 'after the storm', { user: other });
      const final: RecordedRequest = await h.discord.waitForRequest(isFinalEdit(good.token));
      expect(final.files.map((f) => f.contentType)).toEqual(TRACK_FILE_TYPES);
      // Nothing reached the provider for the crafted one.
      expect(h.aiml.requests.filter((r) => r.route === 'create')).toHaveLength(1);
      expect(h.logs.lines.some((l) => l.msg === 'malformed interaction frame; it will be refused')).toBe(
        true,
      );
    },
  );

  it('ignores a frame with no ID or token to answer on, and carries on', async () => {
    harness = await startHarness();
    const h = harness;
    h.discord.craftedInteraction(3, { user: member, data: { custom_id: 'x:y', component_type: 2 } }, (f) => {
      f.token = 12;
    });
    const good = music(h.discord, 'still here', { user: other });
    const final = await h.discord.waitForRequest(isFinalEdit(good.token));
    expect(final.files.map((f) => f.contentType)).toEqual(TRACK_FILE_TYPES);
    expect(
      h.logs.lines.filter((l) => l.msg === 'malformed interaction frame; it will be refused'),
    ).toHaveLength(1);
  });
});
