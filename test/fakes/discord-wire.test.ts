import {
  ApplicationCommandOptionType,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  HTTPError,
  MessageFlags,
  Routes,
  type Interaction,
} from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isNetworkFault } from '../../src/discord/discord-errors.js';
import { FakeDiscord } from './discord.js';
import { rejectionOf } from '../support/errors.js';

/**
 * The fake must be faithful to what discord.js really sends and expects, or the end-to-end tests
 * prove nothing. These drive the real client against it, with no bot code in between.
 */
let fake: FakeDiscord;
let client: Client;

beforeEach(async () => {
  fake = await FakeDiscord.start();
  client = new Client({
    intents: [GatewayIntentBits.Guilds],
    rest: { api: fake.apiUrl, retries: 0, timeout: 2_000 },
  });
  const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
  await client.login(fake.token);
  await ready;
});

afterEach(async () => {
  await client.destroy();
  await fake.close();
});

function nextInteraction(): Promise<Interaction> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no interaction within 20 s')), 20_000);
    client.once(Events.InteractionCreate, (interaction) => {
      clearTimeout(timer);
      resolve(interaction);
    });
  });
}

/** A /music the fake dispatches and the client defers. */
async function deferredMusic() {
  const pending = nextInteraction();
  const sent = fake.chatInput({ name: 'music' });
  const interaction = await pending;
  if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
  await interaction.deferReply();
  return { sent, interaction };
}

describe("fake Discord: autocomplete, message commands and members' messages", () => {
  it('delivers an autocomplete with its focused value and records the choices answered', async () => {
    const pending = nextInteraction();
    const sent = fake.autocomplete({
      name: 'music',
      options: [
        { name: 'prompt', type: ApplicationCommandOptionType.String, value: 'x' },
        { name: 'style', type: ApplicationCommandOptionType.String, value: 'jaz', focused: true },
      ],
    });
    const interaction = await pending;
    if (!interaction.isAutocomplete()) throw new Error('expected an autocomplete');
    expect(interaction.options.getFocused(true)).toMatchObject({ name: 'style', value: 'jaz' });
    await interaction.respond([{ name: 'Jazz', value: 'Jazz' }]);
    expect(fake.callbacks(sent.id)[0]?.body).toEqual({
      type: 8,
      data: { choices: [{ name: 'Jazz', value: 'Jazz' }] },
    });
  });

  it('delivers a message command whose target a REST read returns with its author', async () => {
    const message = fake.postUserMessage({
      author: { id: '200000000000000077', username: 'ben', globalName: 'Ben' },
      content: 'We sail at dawn',
    });
    const pending = nextInteraction();
    fake.messageCommand({ name: 'Make a track from this', message });
    const interaction = await pending;
    if (!interaction.isMessageContextMenuCommand()) throw new Error('expected a message command');
    expect(interaction.targetId).toBe(message.id);
    expect(interaction.targetMessage.content).toBe('We sail at dawn');
    expect(interaction.targetMessage.author.username).toBe('ben');
    const fetched = (await client.rest.get(Routes.channelMessage(message.channel_id, message.id))) as {
      author: { id: string; global_name: string | null };
    };
    expect(fetched.author).toMatchObject({ id: '200000000000000077', global_name: 'Ben' });
  });
});

describe('fake Discord, driven by the real discord.js client', () => {
  it('logs in over the gateway and caches the configured guild', () => {
    expect(fake.sessions).toBe(1);
    expect(client.user?.id).toBe(fake.applicationId);
    expect(client.guilds.cache.get('100000000000000001')?.channels.cache.has('100000000000000002')).toBe(
      true,
    );
  });

  it('rejects a wrong token at login', async () => {
    const other = new Client({ intents: [], rest: { api: fake.apiUrl, retries: 0 } });
    await expect(other.login('not-the-token')).rejects.toThrow(/token/i);
    await other.destroy();
  });

  it('delivers a slash command, records the deferral, and an edit with a file keeps its bytes', async () => {
    const pending = nextInteraction();
    const sent = fake.chatInput({
      name: 'music',
      options: [{ name: 'prompt', type: ApplicationCommandOptionType.String, value: 'hello' }],
      attachmentSizeLimit: 25 * 1024 * 1024,
    });
    const interaction = await pending;
    if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
    expect(interaction.options.getString('prompt')).toBe('hello');
    expect(interaction.attachmentSizeLimit).toBe(25 * 1024 * 1024);
    expect(interaction.token).toBe(sent.token);

    await interaction.deferReply();
    const bytes = Buffer.from([0xff, 0xfb, 0x90, 0x64, 1, 2, 3]);
    await interaction.editReply({
      content: 'hi @everyone',
      files: [{ attachment: bytes, name: 'a.mp3' }],
      allowedMentions: { parse: [] },
    });

    expect(fake.callbacks(sent.id).map((r) => (r.body as { type: number }).type)).toEqual([5]);
    const message = fake.originalResponse(sent.token)!;
    expect(message.content).toBe('hi @everyone');
    expect(message.allowed_mentions).toEqual({ parse: [] });
    expect(message.attachments.map((a) => a.filename)).toEqual(['a.mp3']);
    expect(fake.attachmentData(message.attachments[0]!.id)).toEqual(bytes);
    const served = await fetch(message.attachments[0]!.url);
    expect(Buffer.from(await served.arrayBuffer())).toEqual(bytes);
  });

  it('records an ephemeral reply and refuses a second acknowledgement', async () => {
    const pending = nextInteraction();
    fake.chatInput({ name: 'music' });
    const interaction = await pending;
    if (!interaction.isChatInputCommand()) throw new Error('expected a chat input command');
    await interaction.reply({ content: 'only you', flags: MessageFlags.Ephemeral });
    const raw = client.rest.post(Routes.interactionCallback(interaction.id, interaction.token), {
      body: { type: 5 },
      auth: false,
    });
    expect((await rejectionOf(raw, DiscordAPIError)).code).toBe(40060);
  });

  it('answers injected failures and expired tokens the way Discord does', async () => {
    const { sent, interaction } = await deferredMusic();

    // discord.js raises HTTPError, not DiscordAPIError, for a 5xx.
    fake.failNext({ method: 'PATCH', path: /@original$/, status: 500 });
    await expect(interaction.editReply('x')).rejects.toBeInstanceOf(HTTPError);
    expect(fake.requests.at(-1)?.status).toBe(500);

    fake.expireToken(sent.token);
    const expired = await rejectionOf(interaction.editReply('y'), DiscordAPIError);
    expect([expired.status, expired.code]).toEqual([401, 50027]);
  });

  it('drops a connection mid-request without applying or answering it', async () => {
    const { sent, interaction } = await deferredMusic();
    await interaction.editReply('before');
    const path = `/webhooks/${fake.applicationId}/${sent.token}/messages/@original`;
    fake.dropNext({ match: (r) => r.method === 'PATCH' && r.path === path });
    const before = fake.requests.length;
    // The socket closes under the request: discord.js sees a network error, not an answer.
    const error = await rejectionOf(interaction.editReply('lost'), Error);
    expect(error).not.toBeInstanceOf(DiscordAPIError);
    expect(error).not.toBeInstanceOf(HTTPError);
    expect(isNetworkFault(error)).toBe(true);
    expect(fake.dropped.map((r) => (r.body as { content?: string }).content)).toEqual(['lost']);
    expect(fake.requests).toHaveLength(before);
    expect(fake.originalResponse(sent.token)?.content).toBe('before');
    // Only the next matching request was dropped.
    await interaction.editReply('after');
    expect(fake.originalResponse(sent.token)?.content).toBe('after');
  });

  it('edits, fetches and deletes channel messages with the bot token', async () => {
    const created = (await client.rest.post(Routes.channelMessages('100000000000000002'), {
      body: { content: 'first' },
    })) as { id: string };
    await client.rest.patch(Routes.channelMessage('100000000000000002', created.id), {
      body: { content: 'second' },
    });
    expect(fake.messages.get(created.id)?.content).toBe('second');
    await client.rest.delete(Routes.channelMessage('100000000000000002', created.id));
    const gone = await rejectionOf(
      client.rest.get(Routes.channelMessage('100000000000000002', created.id)),
      DiscordAPIError,
    );
    expect(gone.code).toBe(10008);
  });

  it('delivers buttons and modal submissions that discord.js can read', async () => {
    const message = (await client.rest.post(Routes.channelMessages('100000000000000002'), {
      body: { content: 'track' },
    })) as { id: string };
    let pending = nextInteraction();
    fake.button({ customId: 'regen:1', message: message.id });
    const button = await pending;
    if (!button.isButton()) throw new Error('expected a button');
    expect(button.customId).toBe('regen:1');
    expect(button.message.id).toBe(message.id);
    await button.deferUpdate();

    pending = nextInteraction();
    fake.modalSubmit({ customId: 'remix:1', fields: [{ customId: 'prompt', value: 'new take' }] });
    const modal = await pending;
    if (!modal.isModalSubmit()) throw new Error('expected a modal submission');
    expect(modal.fields.getTextInputValue('prompt')).toBe('new take');
  });

  it('stores bulk-overwritten commands with IDs', async () => {
    const result = (await client.rest.put(Routes.applicationCommands(fake.applicationId), {
      body: [{ name: 'music', description: 'x' }],
    })) as { id: string; name: string }[];
    expect(result[0]?.name).toBe('music');
    expect(result[0]?.id).toMatch(/^\d+$/);
    expect(fake.commands.global).toEqual(result);
  });
});

describe('fake Discord voice states, driven by the real discord.js client', () => {
  it('sends voice states in GUILD_CREATE and VOICE_STATE_UPDATE, and answers op 4 with the bot’s state and a voice server', async () => {
    const guild = {
      id: '100000000000000101',
      channels: [
        { id: '100000000000000102', type: 0 },
        { id: '100000000000000103', name: 'Lounge', type: 2 },
      ],
      voiceStates: [{ userId: '200000000000000001', channelId: '100000000000000103' }],
    };
    const voiceFake = await FakeDiscord.start({
      guilds: [guild],
      voice: { endpoint: '127.0.0.1:1', issueToken: () => 'voice-token', disconnect: () => undefined },
    });
    const voiceClient = new Client({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildVoiceStates],
      rest: { api: voiceFake.apiUrl, retries: 0, timeout: 2_000 },
    });
    try {
      const ready = new Promise<void>((resolve) => voiceClient.once(Events.ClientReady, () => resolve()));
      await voiceClient.login(voiceFake.token);
      await ready;
      const cached = voiceClient.guilds.cache.get(guild.id)!;
      expect(cached.voiceStates.cache.get('200000000000000001')?.channelId).toBe('100000000000000103');
      expect(cached.members.me?.id).toBe(voiceFake.applicationId);

      const moved = new Promise((resolve) =>
        voiceClient.once(Events.VoiceStateUpdate, (_, after) => resolve(after.channelId)),
      );
      voiceFake.setVoiceState(guild.id, '200000000000000001', null);
      expect(await moved).toBeNull();

      const dispatches: { t: string; d: Record<string, unknown> }[] = [];
      voiceClient.on(Events.Raw, (packet: { t: string; d: Record<string, unknown> }) => {
        if (packet.t.startsWith('VOICE_')) dispatches.push(packet);
      });
      const shard = voiceClient.ws.shards.first()!;
      shard.send({
        op: 4,
        d: { guild_id: guild.id, channel_id: '100000000000000103', self_mute: false, self_deaf: true },
      });
      await voiceFake.waitForVoiceRequest((r) => r.channelId === '100000000000000103');
      await new Promise<void>((resolve) => {
        const check = () => (dispatches.length >= 2 ? resolve() : setTimeout(check, 5));
        check();
      });
      expect(dispatches.map((p) => p.t)).toEqual(['VOICE_STATE_UPDATE', 'VOICE_SERVER_UPDATE']);
      expect(dispatches[0]?.d).toMatchObject({
        user_id: voiceFake.applicationId,
        channel_id: '100000000000000103',
        self_deaf: true,
      });
      expect(dispatches[1]?.d).toEqual({ token: 'voice-token', guild_id: guild.id, endpoint: '127.0.0.1:1' });
    } finally {
      await voiceClient.destroy();
      await voiceFake.close();
    }
  });
});
