import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A fake Discord on loopback: the REST routes and the WebSocket gateway that discord.js 14 uses,
 * following the wire format in shared/discord-facts.md. It keeps messages in memory and records
 * every request so tests can assert what the bot sent.
 */

export interface FakeGuild {
  id: string;
  name?: string;
  /** Type 0 is a text channel, 2 a voice channel (default 0). */
  channels?: {
    id: string;
    name?: string;
    type?: number;
    /** Channel overwrites as Discord sends them: `type` 0 for a role, 1 for a member. */
    permission_overwrites?: { id: string; type: 0 | 1; allow: string; deny: string }[];
  }[];
  /** Members already in voice channels when the bot connects (sent in GUILD_CREATE). */
  voiceStates?: { userId: string; channelId: string; bot?: boolean }[];
  /** Roles beyond @everyone (whose ID is the guild's and whose permissions are `everyonePermissions`). */
  roles?: { id: string; name?: string; permissions: string }[];
  everyonePermissions?: string;
  ownerId?: string;
}

/** A person who can sign in through the fake's OAuth2 pages. */
export interface FakeUser {
  id: string;
  username: string;
  globalName?: string;
}

/** A guild member as `GET /guilds/{id}/members/{user}` returns it. */
export interface FakeMember {
  userId: string;
  roles?: string[];
  nick?: string;
}

/** Where the gateway's op 4 sends the bot: the fake voice server's address and its tokens. */
export interface VoiceBackend {
  readonly endpoint: string;
  issueToken(guildId: string, userId: string): string;
  disconnect(guildId: string, code?: number): void;
}

/** The bot's gateway op 4, as received. */
export interface VoiceStateRequest {
  at: number;
  guildId: string;
  channelId: string | null;
  selfDeaf: boolean;
  selfMute: boolean;
}

export interface FakeDiscordOptions {
  token?: string;
  applicationId?: string;
  guilds?: FakeGuild[];
  heartbeatIntervalMs?: number;
  /** What `GET /gateway/bot` recommends as the shard count (default 1). */
  recommendedShards?: number;
  /** The OAuth2 client secret the token endpoint accepts. */
  clientSecret?: string;
  /** The voice server op 4 points the bot at. */
  voice?: VoiceBackend;
}

export interface RecordedFile {
  field: string;
  name: string;
  contentType: string;
  data: Buffer;
}

export interface RecordedRequest {
  id: number;
  at: number;
  method: string;
  /** Path after `/api/v10`, percent-decoded (`@original`, not `%40original`). */
  path: string;
  rawPath: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  /** Parsed JSON body, or the `payload_json` part of a multipart body. */
  body: unknown;
  files: RecordedFile[];
  status: number;
}

export interface FakeAttachment {
  id: string;
  filename: string;
  size: number;
  url: string;
  proxy_url: string;
  content_type: string;
}

export interface FakeMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  author: {
    id: string;
    username: string;
    discriminator: string;
    bot: boolean;
    avatar: null;
    global_name: string | null;
  };
  content: string;
  embeds: unknown[];
  components: unknown[];
  attachments: FakeAttachment[];
  mentions: unknown[];
  mention_roles: unknown[];
  mention_everyone: boolean;
  pinned: boolean;
  tts: boolean;
  type: number;
  flags: number;
  timestamp: string;
  edited_timestamp: string | null;
  message_reference?: unknown;
  allowed_mentions?: unknown;
  /** The interaction whose response this message is, if any. */
  interactionId?: string;
}

interface InteractionRecord {
  id: string;
  token: string;
  channelId: string;
  guildId: string;
  acknowledged: boolean;
  expired: boolean;
  originalMessageId?: string;
  /** For component interactions: the message the component sits on. */
  sourceMessageId?: string;
}

interface FailRule {
  method?: string;
  path: RegExp;
  status: number;
  body?: unknown;
  times: number;
  retryAfterSeconds?: number;
  match?: (r: RecordedRequest) => boolean;
}

/** `[shard_id, shard_count]`, as a gateway session identifies. */
type Shard = [number, number];

/** The shard that carries a guild's events: `(guild_id >> 22) % shard_count`. */
export function shardOf(guildId: string, shardCount: number): number {
  return Number((BigInt(guildId) >> 22n) % BigInt(shardCount));
}

interface UserInput {
  id: string;
  username?: string;
}

interface InteractionInput {
  user?: UserInput;
  guildId?: string;
  channelId?: string;
  permissions?: string;
  roles?: string[];
  attachmentSizeLimit?: number;
}

type Json = Record<string, unknown>;

const DEFAULT_GUILD: FakeGuild = {
  id: '100000000000000001',
  name: 'Fake Guild',
  channels: [{ id: '100000000000000002', name: 'general', type: 0 }],
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly payload: Json,
  ) {
    super(String(payload.message));
  }
}

/** An interaction the fake sent to the bot, in order with the REST requests around it. */
export interface DispatchedInteraction {
  id: string;
  token: string;
  type: number;
  userId: string;
  guildId: string;
  data: Json;
  /** The source message of a button or modal, if any. */
  messageId?: string;
  /** How many REST requests the fake had recorded when it sent this. */
  afterRequests: number;
  /** When it was sent (ms since the epoch). */
  at: number;
}

/** A guild member's fields that every member of the fake has alike (everyone joined on one day). */
const MEMBER_FIELDS = {
  joined_at: '2024-01-01T00:00:00.000Z',
  deaf: false,
  mute: false,
  flags: 0,
  avatar: null,
  nick: null,
  premium_since: null,
  pending: false,
};

export class FakeDiscord {
  readonly requests: RecordedRequest[] = [];
  /** Requests whose connection `dropNext` broke: never applied, never answered. */
  readonly dropped: RecordedRequest[] = [];
  readonly dispatched: DispatchedInteraction[] = [];
  readonly messages = new Map<string, FakeMessage>();
  readonly commands: { global: unknown[]; guild: Map<string, unknown[]> } = { global: [], guild: new Map() };
  /** Every op 4 (voice state update) the bot sent, in order. */
  readonly voiceRequests: VoiceStateRequest[] = [];
  /** Who is in which voice channel, by guild then user. */
  private readonly voiceStates = new Map<string, Map<string, { channelId: string; bot: boolean }>>();
  private voice: VoiceBackend | undefined;
  private readonly voiceWaiters = new Set<() => void>();
  readonly token: string;
  readonly applicationId: string;
  readonly apiUrl: string;

  private readonly interactions = new Map<string, InteractionRecord>();
  private readonly byToken = new Map<string, InteractionRecord>();
  private readonly attachments = new Map<string, Buffer>();
  private readonly sockets = new Set<WebSocket>();
  /** Sessions by socket, with the shard each identified as. */
  private readonly identified = new Map<WebSocket, Shard>();
  private readonly shardBySession = new Map<string, Shard>();
  private readonly waiters = new Set<{
    predicate: (r: RecordedRequest) => boolean;
    resolve: (r: RecordedRequest) => void;
  }>();
  private readonly failRules: FailRule[] = [];
  readonly clientSecret: string;
  /** Requests for attachment bytes on the fake CDN, with the Range each asked for. */
  readonly cdnRequests: { attachmentId: string; range: string | undefined; status: number }[] = [];
  private readonly users = new Map<string, FakeUser>();
  /** Members by guild, then user. */
  private readonly members = new Map<string, Map<string, FakeMember>>();
  /** What `/users/@me/guilds` lists for a user when it should differ from their memberships. */
  private readonly claimedGuilds = new Map<string, string[]>();
  private readonly oauthCodes = new Map<string, { userId: string; redirectUri: string; used: boolean }>();
  private readonly accessTokens = new Map<string, string>();
  /** Added to the real time when signing and checking CDN links: moves the fake a day ahead. */
  private cdnClockOffsetMs = 0;
  private readonly cdnKey = randomBytes(16);
  private readonly holdRules: {
    match: (r: RecordedRequest) => boolean;
    release: () => Promise<unknown>;
    times: number;
  }[] = [];
  private readonly dropRules: { match: (r: RecordedRequest) => boolean; times: number }[] = [];
  private readonly guilds: FakeGuild[];
  private readonly heartbeatIntervalMs: number;
  private readonly recommendedShards: number;
  private sequence = 0;
  private snowflake = 1_300_000_000_000_000_000n;
  private requestCount = 0;

  private constructor(
    private readonly server: Server,
    private readonly wss: WebSocketServer,
    readonly baseUrl: string,
    options: FakeDiscordOptions,
  ) {
    this.token =
      options.token ?? 'MTEwMDAwMDAwMDAwMDAwMDAx.FakeTk.fake-discord-bot-token-for-tests_0123456789';
    this.applicationId = options.applicationId ?? '110000000000000001';
    this.guilds = options.guilds ?? [DEFAULT_GUILD];
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 41_250;
    this.recommendedShards = options.recommendedShards ?? 1;
    this.clientSecret = options.clientSecret ?? 'fake-client-secret';
    this.apiUrl = `${baseUrl}/api`;
    this.voice = options.voice;
    for (const guild of this.guilds) {
      const states = new Map<string, { channelId: string; bot: boolean }>();
      for (const state of guild.voiceStates ?? [])
        states.set(state.userId, { channelId: state.channelId, bot: state.bot ?? false });
      this.voiceStates.set(guild.id, states);
    }
  }

  static async start(options: FakeDiscordOptions = {}): Promise<FakeDiscord> {
    const server = createServer();
    const wss = new WebSocketServer({ noServer: true });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const fake = new FakeDiscord(server, wss, `http://127.0.0.1:${port}`, options);
    server.on('request', (req, res) => {
      fake.onRequest(req, res).catch(() => {
        // The client went away mid-request (a killed bot): nothing to answer.
        res.destroy();
      });
    });
    server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/gateway')) {
        socket.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => fake.onSocket(ws));
    });
    return fake;
  }

  get sessions(): number {
    return this.identified.size;
  }

  // ---------------------------------------------------------------- interactions

  chatInput(
    input: InteractionInput & {
      name: string;
      options?: { name: string; type: number; value?: string | number | boolean; options?: unknown[] }[];
      commandId?: string;
    },
  ): { id: string; token: string } {
    return this.dispatchInteraction(2, input, {
      id: input.commandId ?? '120000000000000001',
      name: input.name,
      type: 1,
      options: input.options ?? [],
      guild_id: input.guildId ?? this.defaultGuild().id,
    });
  }

  /** An autocomplete request (type 4): the focused option carries `focused: true`. */
  autocomplete(
    input: InteractionInput & {
      name: string;
      options: { name: string; type: number; value?: unknown; focused?: boolean }[];
    },
  ): { id: string; token: string } {
    return this.dispatchInteraction(4, input, {
      id: '120000000000000001',
      name: input.name,
      type: 1,
      options: input.options,
      guild_id: input.guildId ?? this.defaultGuild().id,
    });
  }

  /** A message context-menu command (type 2, command type 3) on a message the fake holds. */
  messageCommand(input: InteractionInput & { name: string; message: FakeMessage }): {
    id: string;
    token: string;
  } {
    return this.dispatchInteraction(2, input, {
      id: '120000000000000003',
      name: input.name,
      type: 3,
      target_id: input.message.id,
      resolved: { messages: { [input.message.id]: input.message } },
      guild_id: input.guildId ?? this.defaultGuild().id,
    });
  }

  /** A message a member posted (not the bot), kept so that REST reads of it work. */
  postUserMessage(input: {
    author: { id: string; username: string; globalName?: string };
    content: string;
    channelId?: string;
    attachments?: FakeAttachment[];
  }): FakeMessage {
    const guild = this.defaultGuild();
    const channelId = input.channelId ?? guild.channels?.[0]?.id ?? guild.id;
    const message = this.createMessage(channelId, guild.id, { content: input.content }, []);
    message.author = {
      id: input.author.id,
      username: input.author.username,
      discriminator: '0',
      bot: false,
      avatar: null,
      global_name: input.author.globalName ?? null,
    };
    message.attachments = input.attachments ?? [];
    return message;
  }

  button(input: InteractionInput & { customId: string; message: FakeMessage | string }): {
    id: string;
    token: string;
  } {
    const message = typeof input.message === 'string' ? this.messages.get(input.message) : input.message;
    if (!message) throw new Error('button(): unknown message');
    return this.dispatchInteraction(3, input, { custom_id: input.customId, component_type: 2 }, message);
  }

  modalSubmit(
    input: InteractionInput & {
      customId: string;
      fields: { customId: string; value: string }[];
      message?: FakeMessage;
    },
  ): { id: string; token: string } {
    const components = input.fields.map((field) => ({
      type: 1,
      components: [{ type: 4, custom_id: field.customId, value: field.value }],
    }));
    return this.dispatchInteraction(5, input, { custom_id: input.customId, components }, input.message);
  }

  /**
   * An INTERACTION_CREATE built like the others and then changed by `craft` before it goes out,
   * as a member with a modified client could send it (a `custom_id` that is a number, say). The
   * fake records it and accepts callbacks for it like any other interaction.
   */
  craftedInteraction(
    type: number,
    input: InteractionInput & { data: Json; message?: FakeMessage },
    craft: (frame: Json) => void,
  ): { id: string; token: string } {
    return this.dispatchInteraction(type, input, input.data, input.message, craft);
  }

  /** A message the bot posted earlier in the default guild's first channel, for a component to sit on. */
  seedBotMessage(content: string): FakeMessage {
    const guild = this.defaultGuild();
    return this.createMessage(guild.channels?.[0]?.id ?? guild.id, guild.id, { content }, []);
  }

  /** Sends an event on every session. */
  dispatchRaw(t: string, d: unknown): void {
    for (const ws of this.identified.keys()) this.send(ws, { op: 0, t, s: ++this.sequence, d });
  }

  /** The shards the bot's sessions identified as, in the order they did. */
  shards(): Shard[] {
    return [...this.identified.values()];
  }

  /** Sends an event about a guild only on the session whose shard carries that guild, as Discord does. */
  private dispatchToGuild(guildId: string, t: string, d: unknown): void {
    for (const [ws, [id, count]] of this.identified) {
      if (shardOf(guildId, count) === id) this.send(ws, { op: 0, t, s: ++this.sequence, d });
    }
  }

  originalResponse(interactionToken: string): FakeMessage | undefined {
    const id = this.byToken.get(interactionToken)?.originalMessageId;
    return id === undefined ? undefined : this.messages.get(id);
  }

  callbacks(interactionId: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith(`/interactions/${interactionId}/`));
  }

  attachmentData(attachmentId: string): Buffer | undefined {
    return this.attachments.get(attachmentId);
  }

  /** Someone who can sign in on the fake's authorize page (not yet a member of any guild). */
  addUser(user: FakeUser): void {
    this.users.set(user.id, user);
  }

  /** Makes a user a member of a guild, as the bot's member lookups see it. */
  addMember(guildId: string, member: FakeMember): void {
    const guild = this.members.get(guildId) ?? new Map<string, FakeMember>();
    guild.set(member.userId, member);
    this.members.set(guildId, guild);
  }

  removeMember(guildId: string, userId: string): void {
    this.members.get(guildId)?.delete(userId);
  }

  /** What the user's OAuth guild list claims, whatever their memberships (a test of distrust). */
  claimGuilds(userId: string, guildIds: string[]): void {
    this.claimedGuilds.set(userId, guildIds);
  }

  /** Every OAuth2 access token the fake has handed out (to check that none is logged or stored). */
  issuedAccessTokens(): string[] {
    return [...this.accessTokens.keys()];
  }

  /** Moves the CDN's clock: links it signed before expire after 24 hours of it, as Discord's do. */
  advanceCdnClock(ms: number): void {
    this.cdnClockOffsetMs += ms;
  }

  failNext(rule: {
    method?: string;
    path: RegExp;
    status: number;
    body?: unknown;
    times?: number;
    retryAfterSeconds?: number;
    /** Narrows the rule to requests with this body or these files. */
    match?: (r: RecordedRequest) => boolean;
  }): void {
    this.failRules.push({ ...rule, times: rule.times ?? 1 });
  }

  /**
   * Breaks the connection of the next matching requests once their body has arrived, without
   * applying them or answering: as when a connection drops mid-upload. They are kept in `dropped`,
   * not in `requests`, since Discord never saw them.
   */
  dropNext(rule: { match: (r: RecordedRequest) => boolean; times?: number }): void {
    this.dropRules.push({ ...rule, times: rule.times ?? 1 });
  }

  /** Applies the next matching request at once but answers it only after `ms`, or once `until` settles. */
  holdNext(
    rule: { match: (r: RecordedRequest) => boolean; times?: number } & (
      { ms: number } | { until: Promise<unknown> }
    ),
  ): void {
    const release =
      'until' in rule
        ? () => rule.until.catch(() => undefined)
        : () => new Promise((resolve) => setTimeout(resolve, rule.ms));
    this.holdRules.push({ match: rule.match, release, times: rule.times ?? 1 });
  }

  expireToken(interactionToken: string): void {
    const record = this.byToken.get(interactionToken);
    if (record) record.expired = true;
  }

  waitForRequest(predicate: (r: RecordedRequest) => boolean, timeoutMs = 30_000): Promise<RecordedRequest> {
    const found = this.requests.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (r: RecordedRequest) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(r);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const seen = this.requests.map((r) => `${r.method} ${r.path} -> ${r.status}`).join('\n  ');
        reject(
          new Error(`fake Discord: no matching request within ${timeoutMs} ms; saw:\n  ${seen || '(none)'}`),
        );
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---------------------------------------------------------------- voice

  /** Points op 4 at a (new) voice server. */
  useVoice(voice: VoiceBackend): void {
    this.voice = voice;
  }

  /** The voice channel a user is in, as the fake knows it. */
  voiceChannelOf(guildId: string, userId: string): string | undefined {
    return this.voiceStates.get(guildId)?.get(userId)?.channelId;
  }

  /** A member joins, moves to, or (null) leaves a voice channel: VOICE_STATE_UPDATE to the bot. */
  setVoiceState(guildId: string, userId: string, channelId: string | null, bot = false): void {
    this.applyVoiceState(guildId, userId, channelId, bot, `member-session-${userId}`);
  }

  /** A moderator disconnects the bot from voice: its state goes to no channel and the voice server closes with 4014. */
  kickBotFromVoice(guildId: string): void {
    this.applyVoiceState(guildId, this.applicationId, null, true, this.botVoiceSession);
    this.voice?.disconnect(guildId, 4014);
  }

  /** A moderator drags the bot into another voice channel: only its voice state changes. */
  moveBotInVoice(guildId: string, channelId: string): void {
    this.applyVoiceState(guildId, this.applicationId, channelId, true, this.botVoiceSession);
  }

  /** Resolves once the bot's op 4 requests satisfy `check`. */
  waitForVoiceRequest(
    check: (r: VoiceStateRequest) => boolean,
    timeoutMs = 30_000,
  ): Promise<VoiceStateRequest> {
    const find = () => this.voiceRequests.find(check);
    const found = find();
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = () => {
        const hit = find();
        if (!hit) return;
        clearTimeout(timer);
        this.voiceWaiters.delete(waiter);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        this.voiceWaiters.delete(waiter);
        reject(
          new Error(
            `fake Discord: no matching voice request within ${timeoutMs} ms; saw ${JSON.stringify(this.voiceRequests)}`,
          ),
        );
      }, timeoutMs);
      this.voiceWaiters.add(waiter);
    });
  }

  private botVoiceSession = 'bot-voice-session';

  private voiceStatesOf(guildId: string): Map<string, { channelId: string; bot: boolean }> {
    return this.voiceStates.get(guildId) ?? new Map<string, { channelId: string; bot: boolean }>();
  }

  private onVoiceStateRequest(ws: WebSocket, d: Json): void {
    const guildId = String(d.guild_id);
    const channelId = typeof d.channel_id === 'string' ? d.channel_id : null;
    const guild = this.guilds.find((g) => g.id === guildId);
    if (!guild) return;
    this.voiceRequests.push({
      at: Date.now(),
      guildId,
      channelId,
      selfDeaf: d.self_deaf === true,
      selfMute: d.self_mute === true,
    });
    for (const waiter of [...this.voiceWaiters]) waiter();
    // The voice session ID is the gateway session's, as on Discord.
    this.botVoiceSession = [...this.shardBySession.keys()].at(-1) ?? this.botVoiceSession;
    if (channelId !== null && !guild.channels?.some((c) => c.id === channelId && c.type === 2)) return;
    this.applyVoiceState(guildId, this.applicationId, channelId, true, this.botVoiceSession, ws, d);
    if (channelId !== null && this.voice) {
      this.send(ws, {
        op: 0,
        t: 'VOICE_SERVER_UPDATE',
        s: ++this.sequence,
        d: {
          token: this.voice.issueToken(guildId, this.applicationId),
          guild_id: guildId,
          endpoint: this.voice.endpoint,
        },
      });
    }
  }

  private applyVoiceState(
    guildId: string,
    userId: string,
    channelId: string | null,
    bot: boolean,
    sessionId: string,
    only?: WebSocket,
    flags: Json = {},
  ): void {
    const states = this.voiceStates.get(guildId);
    if (!states) throw new Error(`fake Discord: unknown guild ${guildId}`);
    if (channelId === null) states.delete(userId);
    else states.set(userId, { channelId, bot });
    const d = {
      ...this.voiceStatePayload(guildId, userId, channelId, bot, sessionId),
      self_deaf: flags.self_deaf === true,
      self_mute: flags.self_mute === true,
    };
    if (only) this.send(only, { op: 0, t: 'VOICE_STATE_UPDATE', s: ++this.sequence, d });
    else this.dispatchToGuild(guildId, 'VOICE_STATE_UPDATE', d);
  }

  private voiceStatePayload(
    guildId: string,
    userId: string,
    channelId: string | null,
    bot: boolean,
    sessionId: string,
  ): Json {
    return {
      guild_id: guildId,
      channel_id: channelId,
      user_id: userId,
      member: this.memberPayload(userId, bot),
      session_id: sessionId,
      deaf: false,
      mute: false,
      self_deaf: false,
      self_mute: false,
      self_video: false,
      suppress: false,
      request_to_speak_timestamp: null,
    };
  }

  private memberPayload(userId: string, bot: boolean): Json {
    return {
      user: {
        id: userId,
        username: userId === this.applicationId ? 'Tracksmith' : `member-${userId.slice(-4)}`,
        discriminator: '0',
        global_name: null,
        avatar: null,
        bot,
      },
      roles: [],
      ...MEMBER_FIELDS,
    };
  }

  // ---------------------------------------------------------------- gateway

  private onSocket(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => {
      this.sockets.delete(ws);
      this.identified.delete(ws);
    });
    ws.on('message', (raw: Buffer) => this.onFrame(ws, raw.toString('utf8')));
    this.send(ws, { op: 10, d: { heartbeat_interval: this.heartbeatIntervalMs } });
  }

  private onFrame(ws: WebSocket, text: string): void {
    let frame: { op?: number; d?: Json };
    try {
      frame = JSON.parse(text) as { op?: number; d?: Json };
    } catch {
      ws.close(4002, 'Decode error');
      return;
    }
    switch (frame.op) {
      case 1:
        this.send(ws, { op: 11 });
        return;
      case 2: {
        if (frame.d?.token !== this.token) {
          ws.close(4004, 'Authentication failed');
          return;
        }
        const shard: Shard = Array.isArray(frame.d.shard) ? (frame.d.shard as Shard) : [0, 1];
        const sessionId = `session-${this.sequence + 1}`;
        this.identified.set(ws, shard);
        this.shardBySession.set(sessionId, shard);
        const own = this.guilds.filter((g) => shardOf(g.id, shard[1]) === shard[0]);
        this.send(ws, {
          op: 0,
          t: 'READY',
          s: ++this.sequence,
          d: {
            v: 10,
            user: this.botUser(),
            guilds: own.map((g) => ({ id: g.id, unavailable: true })),
            session_id: sessionId,
            resume_gateway_url: `${this.baseUrl.replace('http', 'ws')}/gateway`,
            shard,
            application: { id: this.applicationId, flags: 0 },
          },
        });
        for (const guild of own) {
          this.send(ws, { op: 0, t: 'GUILD_CREATE', s: ++this.sequence, d: this.guildPayload(guild) });
        }
        return;
      }
      case 4:
        this.onVoiceStateRequest(ws, frame.d ?? {});
        return;
      case 6:
        this.identified.set(ws, this.shardBySession.get(String(frame.d?.session_id)) ?? [0, 1]);
        this.send(ws, { op: 0, t: 'RESUMED', s: ++this.sequence, d: {} });
        return;
      default:
        return;
    }
  }

  private send(ws: WebSocket, payload: unknown): void {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(payload));
  }

  // ---------------------------------------------------------------- REST

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const raw = await readBody(req);
    const rawPath = url.pathname;

    if (req.method === 'GET' && rawPath.startsWith('/attachments/')) {
      this.serveAttachment(rawPath, url.searchParams, req.headers.range, res);
      return;
    }
    if (req.method === 'GET' && rawPath === '/oauth2/authorize') {
      this.authorizePage(url.searchParams, res);
      return;
    }

    const path = decodeURIComponent(rawPath.replace(/^\/api\/v\d+/, ''));
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]),
    );
    const { body, files } = await parseBody(raw, req.headers['content-type']);
    const record: RecordedRequest = {
      id: ++this.requestCount,
      at: Date.now(),
      method: req.method ?? 'GET',
      path,
      rawPath,
      query: url.searchParams,
      headers,
      body,
      files,
      status: 0,
    };

    const drop = this.dropRules.find((r) => r.times > 0 && r.match(record));
    if (drop) {
      drop.times--;
      this.dropped.push(record);
      req.socket.destroy();
      return;
    }

    let status: number;
    let payload: unknown;
    let extraHeaders: Record<string, string> = {};
    const rule = this.failRules.find(
      (r) =>
        r.times > 0 &&
        r.path.test(path) &&
        (!r.method || r.method === record.method) &&
        (!r.match || r.match(record)),
    );
    if (rule) {
      rule.times--;
      status = rule.status;
      if (status === 429) {
        const retryAfter = rule.retryAfterSeconds ?? 0.05;
        payload = rule.body ?? {
          message: 'You are being rate limited.',
          retry_after: retryAfter,
          global: false,
        };
        extraHeaders = {
          'retry-after': String(Math.ceil(retryAfter)),
          'x-ratelimit-limit': '5',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset-after': String(retryAfter),
          'x-ratelimit-bucket': 'fake-bucket',
          'x-ratelimit-scope': 'user',
        };
      } else {
        payload = rule.body ?? { message: 'Internal Server Error', code: 0 };
      }
    } else {
      try {
        const result = this.route(record);
        status = result.status;
        payload = result.body;
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        status = error.status;
        payload = error.payload;
      }
    }

    record.status = status;
    this.requests.push(record);
    for (const waiter of [...this.waiters]) if (waiter.predicate(record)) waiter.resolve(record);

    // Applied, but the answer is held back: as when a client dies before the response reaches it.
    const hold = this.holdRules.find((r) => r.times > 0 && r.match(record));
    if (hold) {
      hold.times--;
      await hold.release();
      if (res.destroyed) return;
    }

    if (status === 204) {
      res.writeHead(204, extraHeaders);
      res.end();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json', ...extraHeaders });
    res.end(JSON.stringify(payload ?? null));
  }

  private route(r: RecordedRequest): { status: number; body?: unknown } {
    const parts = r.path.split('/').filter(Boolean);
    const [head, a, b, c, d] = parts;
    if (head === 'oauth2' && a === 'token' && r.method === 'POST') return this.tokenExchange(r);
    if (r.headers.authorization?.startsWith('Bearer ')) return this.bearerRoute(r, parts);
    const isWebhook = head === 'webhooks' || head === 'interactions';
    if (!isWebhook && r.headers.authorization !== `Bot ${this.token}`) {
      throw new HttpError(401, { message: '401: Unauthorized', code: 0 });
    }

    if (head === 'gateway') {
      return {
        status: 200,
        body: {
          url: `${this.baseUrl.replace('http', 'ws')}/gateway`,
          shards: this.recommendedShards,
          // As for a large bot: shards may identify together, without discord.js's 5 s gap between them.
          session_start_limit: { total: 1000, remaining: 1000, reset_after: 0, max_concurrency: 16 },
        },
      };
    }
    if (head === 'users' && a === '@me') return { status: 200, body: this.botUser() };
    if (head === 'applications' && a === '@me' && parts.length === 2) {
      return {
        status: 200,
        body: { id: this.applicationId, name: 'Tracksmith', bot: this.botUser(), flags: 0 },
      };
    }
    if (head === 'applications' && a === this.applicationId && b === 'commands' && parts.length === 3) {
      if (r.method === 'PUT') this.commands.global = this.withIds(r.body);
      return { status: 200, body: this.commands.global };
    }
    if (head === 'applications' && a === this.applicationId && b === 'guilds' && c && d === 'commands') {
      if (r.method === 'PUT') this.commands.guild.set(c, this.withIds(r.body));
      return { status: 200, body: this.commands.guild.get(c) ?? [] };
    }
    if (head === 'interactions' && a && b && c === 'callback' && r.method === 'POST') {
      return this.interactionCallback(a, b, r);
    }
    if (head === 'webhooks' && a && b) return this.webhook(a, b, parts.slice(3), r);
    if (head === 'channels' && a && b === 'messages') return this.channelMessages(a, c, r);
    if (head === 'guilds' && a && parts.length === 2 && r.method === 'GET') return this.guildRoute(a);
    if (head === 'guilds' && a && b === 'members' && c && parts.length === 4 && r.method === 'GET') {
      return this.memberRoute(a, c);
    }
    if (head === 'attachments' && a === 'refresh-urls' && r.method === 'POST') return this.refreshUrls(r);
    throw new HttpError(404, { message: '404: Not Found', code: 0 });
  }

  // ---------------------------------------------------------------- OAuth2, members, CDN links

  /**
   * Discord's authorize page, reduced to what a browser test needs: it checks the request as
   * Discord would and offers one "Sign in as" link per known user, each going back to the
   * redirect URI with a one-time code and the same state.
   */
  private authorizePage(query: URLSearchParams, res: ServerResponse): void {
    const redirectUri = query.get('redirect_uri') ?? '';
    const problems: string[] = [];
    if (query.get('client_id') !== this.applicationId) problems.push('unknown client_id');
    if (query.get('response_type') !== 'code') problems.push('response_type must be code');
    const scopes = new Set((query.get('scope') ?? '').split(/[ +]/));
    if (!scopes.has('identify') || !scopes.has('guilds'))
      problems.push('scope must include identify and guilds');
    if (!/^https?:\/\//.test(redirectUri)) problems.push('redirect_uri must be an http(s) URL');
    if (problems.length > 0) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><title>Invalid OAuth2 request</title><p id="problems">${problems.join('; ')}</p>`,
      );
      return;
    }
    const links = [...this.users.values()].map((user) => {
      const code = randomBytes(15).toString('base64url');
      this.oauthCodes.set(code, { userId: user.id, redirectUri, used: false });
      const back = new URL(redirectUri);
      back.searchParams.set('code', code);
      const state = query.get('state');
      if (state !== null) back.searchParams.set('state', state);
      return `<li><a href="${escapeAttr(back.toString())}" data-user="${user.id}">Sign in as ${escapeAttr(user.username)}</a></li>`;
    });
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Authorize</title><h1>Authorize Tracksmith</h1><ul>${links.join('')}</ul>`);
  }

  /** `POST /oauth2/token`: form-encoded, client credentials by HTTP Basic auth, one use per code. */
  private tokenExchange(r: RecordedRequest): { status: number; body?: unknown } {
    const expected = `Basic ${Buffer.from(`${this.applicationId}:${this.clientSecret}`).toString('base64')}`;
    if (r.headers.authorization !== expected) throw new HttpError(401, { error: 'invalid_client' });
    if (!r.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
      throw new HttpError(400, { error: 'invalid_request' });
    }
    const form = new URLSearchParams(typeof r.body === 'string' ? r.body : '');
    const grant = this.oauthCodes.get(form.get('code') ?? '');
    if (form.get('grant_type') !== 'authorization_code' || !grant || grant.used) {
      throw new HttpError(400, { error: 'invalid_grant', error_description: 'Invalid "code" in request.' });
    }
    if (form.get('redirect_uri') !== grant.redirectUri) {
      throw new HttpError(400, {
        error: 'invalid_grant',
        error_description: 'Invalid "redirect_uri" in request.',
      });
    }
    grant.used = true;
    const token = randomBytes(24).toString('base64url');
    this.accessTokens.set(token, grant.userId);
    return {
      status: 200,
      body: {
        access_token: token,
        token_type: 'Bearer',
        expires_in: 604_800,
        refresh_token: randomBytes(24).toString('base64url'),
        scope: 'identify guilds',
      },
    };
  }

  private bearerRoute(r: RecordedRequest, parts: string[]): { status: number; body?: unknown } {
    const userId = this.accessTokens.get(r.headers.authorization?.slice('Bearer '.length) ?? '');
    const user = userId === undefined ? undefined : this.users.get(userId);
    if (!user) throw new HttpError(401, { message: '401: Unauthorized', code: 0 });
    const [head, a, b] = parts;
    if (head === 'users' && a === '@me' && parts.length === 2 && r.method === 'GET') {
      return {
        status: 200,
        body: {
          id: user.id,
          username: user.username,
          global_name: user.globalName ?? null,
          discriminator: '0',
          avatar: null,
        },
      };
    }
    if (head === 'users' && a === '@me' && b === 'guilds' && r.method === 'GET') {
      const ids =
        this.claimedGuilds.get(user.id) ??
        [...this.members.entries()].filter(([, m]) => m.has(user.id)).map(([guildId]) => guildId);
      return {
        status: 200,
        body: ids.map((id) => ({
          id,
          name: this.guilds.find((g) => g.id === id)?.name ?? 'Some server',
          icon: null,
          owner: false,
          permissions: '0',
          features: [],
        })),
      };
    }
    throw new HttpError(403, { message: 'Missing Access', code: 50001 });
  }

  private guildRoute(guildId: string): { status: number; body?: unknown } {
    const guild = this.guilds.find((g) => g.id === guildId);
    if (!guild) throw new HttpError(404, { message: 'Unknown Guild', code: 10004 });
    return { status: 200, body: this.guildPayload(guild) };
  }

  private memberRoute(guildId: string, userId: string): { status: number; body?: unknown } {
    if (!this.guilds.some((g) => g.id === guildId))
      throw new HttpError(404, { message: 'Unknown Guild', code: 10004 });
    const member = this.members.get(guildId)?.get(userId);
    const user = this.users.get(userId);
    if (!member) throw new HttpError(404, { message: 'Unknown Member', code: 10007 });
    return {
      status: 200,
      body: {
        user: {
          id: userId,
          username: user?.username ?? 'member',
          global_name: user?.globalName ?? null,
          discriminator: '0',
          avatar: null,
        },
        nick: member.nick ?? null,
        roles: member.roles ?? [],
        joined_at: '2024-01-01T00:00:00.000Z',
        deaf: false,
        mute: false,
        flags: 0,
        pending: false,
      },
    };
  }

  /** `POST /attachments/refresh-urls`: `{attachment_urls}` (up to 50) to freshly signed links. */
  private refreshUrls(r: RecordedRequest): { status: number; body?: unknown } {
    const urls = (r.body as { attachment_urls?: unknown } | undefined)?.attachment_urls;
    if (
      !Array.isArray(urls) ||
      urls.length === 0 ||
      urls.length > 50 ||
      !urls.every((u) => typeof u === 'string')
    ) {
      throw new HttpError(400, { message: 'Invalid Form Body', code: 50035 });
    }
    return {
      status: 200,
      body: {
        refreshed_urls: urls.map((original: string) => {
          const path = original.startsWith(this.baseUrl) ? new URL(original).pathname : '';
          const id = path.split('/')[3] ?? '';
          return { original, refreshed: this.attachments.has(id) ? this.signedLink(path) : original };
        }),
      },
    };
  }

  private cdnNow(): number {
    return Date.now() + this.cdnClockOffsetMs;
  }

  /** A link like Discord's: `ex` (expiry) and `is` (issued) in hex seconds, `hm` signing both. */
  private signedLink(path: string): string {
    const issued = Math.floor(this.cdnNow() / 1000);
    const ex = (issued + 86_400).toString(16);
    const is = issued.toString(16);
    return `${this.baseUrl}${path}?ex=${ex}&is=${is}&hm=${this.linkMac(path, ex, is)}&`;
  }

  private linkMac(path: string, ex: string, is: string): string {
    return createHmac('sha256', this.cdnKey).update(`${path}|${ex}|${is}`).digest('hex');
  }

  private serveAttachment(
    path: string,
    query: URLSearchParams,
    range: string | undefined,
    res: ServerResponse,
  ): void {
    const id = path.split('/')[3] ?? '';
    const data = this.attachments.get(id);
    const ex = query.get('ex') ?? '';
    const is = query.get('is') ?? '';
    const signed = query.get('hm') === this.linkMac(path, ex, is);
    const live = Number.parseInt(ex, 16) * 1000 > this.cdnNow();
    const answer = (status: number, headers: Record<string, string | number>, body: Buffer | string) => {
      this.cdnRequests.push({ attachmentId: id, range, status });
      res.writeHead(status, headers);
      res.end(body);
    };
    if (!data || !signed || !live) {
      answer(404, { 'content-type': 'text/plain' }, 'This content is no longer available.');
      return;
    }
    const type = path.endsWith('.png')
      ? 'image/png'
      : path.endsWith('.mp3')
        ? 'audio/mpeg'
        : 'application/octet-stream';
    const match = range === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(range);
    if (match === null) {
      answer(200, { 'content-type': type, 'content-length': data.length, 'accept-ranges': 'bytes' }, data);
      return;
    }
    const [, from = '', to = ''] = match;
    let start = from === '' ? Math.max(0, data.length - Number(to)) : Number(from);
    let end = from === '' || to === '' ? data.length - 1 : Math.min(Number(to), data.length - 1);
    if (from === '' && to === '') [start, end] = [0, data.length - 1];
    if (start >= data.length || start > end) {
      answer(416, { 'content-range': `bytes */${data.length}` }, '');
      return;
    }
    answer(
      206,
      {
        'content-type': type,
        'content-length': end - start + 1,
        'content-range': `bytes ${start}-${end}/${data.length}`,
        'accept-ranges': 'bytes',
      },
      data.subarray(start, end + 1),
    );
  }

  private interactionCallback(
    id: string,
    token: string,
    r: RecordedRequest,
  ): { status: number; body?: unknown } {
    const record = this.interactions.get(id);
    if (!record || record.token !== token)
      throw new HttpError(404, { message: 'Unknown interaction', code: 10062 });
    if (record.acknowledged) {
      throw new HttpError(400, { message: 'Interaction has already been acknowledged.', code: 40060 });
    }
    record.acknowledged = true;
    const { type, data } = r.body as { type: number; data?: Json };
    let message: FakeMessage | undefined;
    if (type === 4 || type === 5) {
      message = this.createMessage(
        record.channelId,
        record.guildId,
        type === 4 ? (data ?? {}) : { flags: data?.flags },
        [],
      );
      if (type === 5) message.flags |= 128; // LOADING
      message.interactionId = id;
      record.originalMessageId = message.id;
    } else if (type === 6 || type === 7) {
      record.originalMessageId = record.sourceMessageId;
      const source = record.sourceMessageId ? this.messages.get(record.sourceMessageId) : undefined;
      if (type === 7 && source && data) this.applyEdit(source, data, []);
      message = source;
    }
    if (r.query.get('with_response') === 'true') {
      return {
        status: 200,
        body: { interaction: { id, type }, resource: message ? { type, message } : { type } },
      };
    }
    return { status: 204 };
  }

  private webhook(
    appId: string,
    token: string,
    rest: string[],
    r: RecordedRequest,
  ): { status: number; body?: unknown } {
    const record = this.byToken.get(token);
    if (appId !== this.applicationId || !record)
      throw new HttpError(401, { message: 'Invalid Webhook Token', code: 50027 });
    if (record.expired) throw new HttpError(401, { message: 'Invalid Webhook Token', code: 50027 });

    if (rest.length === 0 && r.method === 'POST') {
      const message = this.createMessage(record.channelId, record.guildId, r.body as Json, r.files);
      return { status: 200, body: message };
    }
    if (rest[0] !== 'messages' || !rest[1]) throw new HttpError(404, { message: '404: Not Found', code: 0 });
    const messageId = rest[1] === '@original' ? record.originalMessageId : rest[1];
    const message = messageId ? this.messages.get(messageId) : undefined;
    if (!message) throw new HttpError(404, { message: 'Unknown Message', code: 10008 });
    return this.messageVerb(message, r);
  }

  private channelMessages(channelId: string, messageId: string | undefined, r: RecordedRequest) {
    if (!messageId) {
      if (r.method !== 'POST') throw new HttpError(404, { message: '404: Not Found', code: 0 });
      const guild = this.guilds.find((g) => g.channels?.some((c) => c.id === channelId));
      if (!guild) throw new HttpError(404, { message: 'Unknown Channel', code: 10003 });
      return { status: 200, body: this.createMessage(channelId, guild.id, r.body as Json, r.files) };
    }
    const message = this.messages.get(messageId);
    if (!message || message.channel_id !== channelId)
      throw new HttpError(404, { message: 'Unknown Message', code: 10008 });
    if (r.method === 'PATCH' && message.author.id !== this.applicationId) {
      throw new HttpError(403, { message: 'Cannot edit a message authored by another user', code: 50005 });
    }
    return this.messageVerb(message, r);
  }

  private messageVerb(message: FakeMessage, r: RecordedRequest): { status: number; body?: unknown } {
    switch (r.method) {
      case 'GET':
        return { status: 200, body: message };
      case 'DELETE':
        this.messages.delete(message.id);
        return { status: 204 };
      case 'PATCH':
        this.applyEdit(message, r.body as Json, r.files);
        return { status: 200, body: message };
      default:
        throw new HttpError(405, { message: '405: Method Not Allowed', code: 0 });
    }
  }

  // ---------------------------------------------------------------- state

  private createMessage(channelId: string, guildId: string, data: Json, files: RecordedFile[]): FakeMessage {
    const message: FakeMessage = {
      id: this.nextId(),
      channel_id: channelId,
      guild_id: guildId,
      author: { ...this.botUser(), avatar: null, global_name: null },
      content: '',
      embeds: [],
      components: [],
      attachments: [],
      mentions: [],
      mention_roles: [],
      mention_everyone: false,
      pinned: false,
      tts: false,
      type: data.message_reference ? 19 : 0,
      flags: 0,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
    };
    this.applyEdit(message, data, files);
    message.edited_timestamp = null;
    this.messages.set(message.id, message);
    return message;
  }

  private applyEdit(message: FakeMessage, data: Json, files: RecordedFile[]): void {
    if (typeof data.content === 'string') message.content = data.content;
    if (Array.isArray(data.embeds)) message.embeds = data.embeds;
    if (Array.isArray(data.components)) message.components = data.components;
    if (typeof data.flags === 'number') message.flags = data.flags;
    if ('allowed_mentions' in data) message.allowed_mentions = data.allowed_mentions;
    if (data.message_reference) message.message_reference = data.message_reference;
    const uploads = files.filter((f) => f.field.startsWith('files['));
    const upload = (file: RecordedFile, filename?: string): FakeAttachment => {
      const id = this.nextId();
      const name = filename ?? file.name;
      this.attachments.set(id, file.data);
      const url = this.signedLink(`/attachments/${message.channel_id}/${id}/${encodeURIComponent(name)}`);
      return {
        id,
        filename: name,
        size: file.data.length,
        url,
        proxy_url: url,
        content_type: file.contentType,
      };
    };
    if (Array.isArray(data.attachments)) {
      const next: FakeAttachment[] = [];
      for (const entry of data.attachments as { id?: string | number; filename?: string }[]) {
        const existing = message.attachments.find((a) => a.id === String(entry.id));
        if (existing) {
          next.push(existing);
          continue;
        }
        const file = uploads.find((f) => f.field === `files[${String(entry.id)}]`);
        if (file) next.push(upload(file, entry.filename));
      }
      message.attachments = next;
    } else if (uploads.length > 0) {
      message.attachments = [...message.attachments, ...uploads.map((f) => upload(f))];
    }
    message.flags &= ~128;
    message.edited_timestamp = new Date().toISOString();
  }

  private dispatchInteraction(
    type: number,
    input: InteractionInput,
    data: Json,
    message?: FakeMessage,
    craft?: (frame: Json) => void,
  ) {
    const guild = this.guilds.find((g) => g.id === input.guildId) ?? this.defaultGuild();
    const channelId = input.channelId ?? guild.channels?.[0]?.id ?? guild.id;
    const id = this.nextId();
    const token = `aW50ZXJhY3Rpb246${id}:${randomToken()}`;
    const user = {
      id: input.user?.id ?? '200000000000000001',
      username: input.user?.username ?? 'member',
      discriminator: '0',
      global_name: null,
      avatar: null,
    };
    const record: InteractionRecord = {
      id,
      token,
      channelId,
      guildId: guild.id,
      acknowledged: false,
      expired: false,
    };
    if (message) record.sourceMessageId = message.id;
    this.dispatched.push({
      id,
      token,
      type,
      userId: user.id,
      guildId: guild.id,
      data,
      ...(message ? { messageId: message.id } : {}),
      afterRequests: this.requests.length,
      at: Date.now(),
    });
    this.interactions.set(id, record);
    this.byToken.set(token, record);
    const frame: Json = {
      id,
      application_id: this.applicationId,
      type,
      token,
      version: 1,
      data,
      guild_id: guild.id,
      guild: { id: guild.id, locale: 'en-US', features: [] },
      channel_id: channelId,
      channel: { id: channelId, type: 0, guild_id: guild.id, name: 'general' },
      member: {
        user,
        roles: input.roles ?? [],
        permissions: input.permissions ?? '0',
        ...MEMBER_FIELDS,
      },
      app_permissions: '2251799813685247',
      locale: 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': guild.id },
      context: 0,
      attachment_size_limit: input.attachmentSizeLimit ?? 10 * 1024 * 1024,
      ...(message ? { message } : {}),
    };
    craft?.(frame);
    this.dispatchToGuild(guild.id, 'INTERACTION_CREATE', frame);
    return { id, token };
  }

  private guildPayload(guild: FakeGuild): Json {
    return {
      id: guild.id,
      name: guild.name ?? 'Fake Guild',
      icon: null,
      splash: null,
      discovery_splash: null,
      owner_id: guild.ownerId ?? '200000000000000000',
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      roles: [
        {
          id: guild.id,
          name: '@everyone',
          permissions: guild.everyonePermissions ?? '104324673',
          position: 0,
          color: 0,
          hoist: false,
          managed: false,
          mentionable: false,
          flags: 0,
        },
        ...(guild.roles ?? []).map((role, i) => ({
          id: role.id,
          name: role.name ?? `role ${i + 1}`,
          permissions: role.permissions,
          position: i + 1,
          color: 0,
          hoist: false,
          managed: false,
          mentionable: false,
          flags: 0,
        })),
      ],
      emojis: [],
      features: [],
      mfa_level: 0,
      application_id: null,
      system_channel_id: null,
      system_channel_flags: 0,
      rules_channel_id: null,
      vanity_url_code: null,
      description: null,
      banner: null,
      premium_tier: 0,
      preferred_locale: 'en-US',
      public_updates_channel_id: null,
      nsfw_level: 0,
      stickers: [],
      premium_progress_bar_enabled: false,
      joined_at: '2024-01-01T00:00:00.000Z',
      large: false,
      unavailable: false,
      member_count: 2,
      voice_states: [...this.voiceStatesOf(guild.id)].map(([userId, state]) =>
        this.voiceStatePayload(guild.id, userId, state.channelId, state.bot, `member-session-${userId}`),
      ),
      // The bot's own member comes first, as on Discord: discord.js computes its permissions from it.
      members: [
        this.memberPayload(this.applicationId, true),
        ...[...this.voiceStatesOf(guild.id)]
          .filter(([userId]) => userId !== this.applicationId)
          .map(([userId, state]) => this.memberPayload(userId, state.bot)),
      ],
      channels: (guild.channels ?? []).map((c, position) => ({
        id: c.id,
        type: c.type ?? 0,
        name: c.name ?? 'general',
        guild_id: guild.id,
        position,
        permission_overwrites: c.permission_overwrites ?? [],
        nsfw: false,
        ...(c.type === 2 ? { bitrate: 64_000, user_limit: 0, rtc_region: null } : {}),
        parent_id: null,
        topic: null,
        last_message_id: null,
        rate_limit_per_user: 0,
      })),
      threads: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  private botUser() {
    return {
      id: this.applicationId,
      username: 'Tracksmith',
      discriminator: '0',
      bot: true,
      avatar: null,
      global_name: null,
      flags: 0,
    };
  }

  private defaultGuild(): FakeGuild {
    const guild = this.guilds[0];
    if (!guild) throw new Error('fake Discord has no guilds');
    return guild;
  }

  private withIds(body: unknown): unknown[] {
    const list = Array.isArray(body) ? (body as Json[]) : [];
    return list.map((command) => ({
      ...command,
      id: this.nextId(),
      application_id: this.applicationId,
      version: this.nextId(),
    }));
  }

  private nextId(): string {
    this.snowflake += 4_194_304n; // one millisecond's worth of snowflake increment
    return this.snowflake.toString();
  }
}

function escapeAttr(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function randomToken(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
  let out = '';
  for (let i = 0; i < 96; i++) out += alphabet[Math.floor(Math.random() * alphabet.length)] ?? 'A';
  return out;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function parseBody(
  raw: Buffer,
  contentType: string | undefined,
): Promise<{ body: unknown; files: RecordedFile[] }> {
  if (raw.length === 0) return { body: undefined, files: [] };
  if (contentType?.startsWith('multipart/form-data')) {
    // Node's own multipart parser is enough for a loopback fake; no dependency needed.
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    const files: RecordedFile[] = [];
    let body: unknown;
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') {
        if (field === 'payload_json') body = JSON.parse(value) as unknown;
      } else {
        files.push({
          field,
          name: value.name,
          contentType: value.type,
          data: Buffer.from(await value.arrayBuffer()),
        });
      }
    }
    return { body, files };
  }
  try {
    return { body: JSON.parse(raw.toString('utf8')) as unknown, files: [] };
  } catch {
    return { body: raw.toString('utf8'), files: [] };
  }
}
