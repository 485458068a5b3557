import {
  AudioPlayerStatus,
  createAudioPlayer,
  entersState,
  joinVoiceChannel,
  VoiceConnectionStatus,
  type AudioPlayer,
  type VoiceConnection,
} from '@discordjs/voice';
import {
  channelMention,
  Events,
  Routes,
  userMention,
  type Client,
  type Guild,
  type VoiceState,
} from 'discord.js';
import type { Logger } from '../log.js';
import type { TracksRepository } from '../store/tracks-repository.js';
import type { QueueEntry, VoiceRepository, VoiceSession } from '../store/voice-repository.js';
import { noPings } from '../discord/render.js';
import { cannotPlayIn, listenersIn, voiceChannelOf } from './access.js';
import { renderLeft, renderStatus } from './render.js';
import { openTrack, type OpenedTrack } from './track-source.js';

export interface VoiceTimings {
  /** Leave after being the only one in the channel this long (default 1 minute). */
  aloneMs: number;
  /** Leave after this long with nothing to play (default 10 minutes). */
  idleMs: number;
  /** How long joining may take before it counts as failed (default 20 s). */
  joinTimeoutMs: number;
}

const defaultVoiceTimings: VoiceTimings = { aloneMs: 60_000, idleMs: 600_000, joinTimeoutMs: 20_000 };

/** A track that reached its member: queued wherever the bot listens in that server. */
export interface DeliveredTrack {
  guildId: string;
  trackId: string;
  userId: string;
}

/** Why a session ended, for the message the bot leaves behind. */
export type LeaveReason = 'stopped' | 'alone' | 'idle' | 'disconnected';

type StartResult =
  | { kind: 'started'; channelId: string }
  | { kind: 'refused'; message: string }
  | { kind: 'failed'; message: string };

export type ActionResult = { kind: 'done'; message: string } | { kind: 'refused'; message: string };

export interface QueueView {
  voiceChannelId: string;
  entries: (QueueEntry & { trackNumber: number | null; prompt: string | undefined })[];
}

interface Session {
  row: VoiceSession;
  connection: VoiceConnection;
  player: AudioPlayer;
  /** The queue entry on the air, once its audio started. */
  current: QueueEntry | undefined;
  /** Cuts the current track's download and decoding short. */
  abort: AbortController | undefined;
  /**
   * The next track, opened while this one plays so that it starts at once when this one ends or
   * is skipped: its download and first second of Opus wait, held back by the stream's own limit.
   */
  next: { entryId: number; opened: Promise<OpenedTrack | undefined> } | undefined;
  aloneTimer: NodeJS.Timeout | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  /** Set once the session is over, so late events do nothing. */
  ended: boolean;
  /** Serialises moves to the next track: a skip and a track's end never both advance. */
  advancing: Promise<void>;
}

export interface VoiceManagerOptions {
  client: Client;
  store: VoiceRepository;
  tracks: TracksRepository;
  logger: Logger;
  timings?: Partial<VoiceTimings>;
  now?: () => number;
}

/**
 * Listening sessions, one per server: a voice connection from the library's adapter, an audio
 * player, and the queue in the store. Commands and the delivery path call in; the manager joins,
 * plays, keeps the now-playing line current and leaves when it should.
 */
export class VoiceManager {
  private readonly sessions = new Map<string, Session>();
  /** Servers whose `/listen start` is being handled: a second one at the same moment is refused. */
  private readonly starting = new Set<string>();
  private readonly timings: VoiceTimings;
  private readonly now: () => number;
  private closing = false;

  constructor(private readonly options: VoiceManagerOptions) {
    this.timings = { ...defaultVoiceTimings, ...options.timings };
    this.now = options.now ?? Date.now;
    options.client.on(Events.VoiceStateUpdate, (before, after) => this.onVoiceState(before, after));
  }

  private get logger(): Logger {
    return this.options.logger;
  }

  listeningChannel(guildId: string): string | undefined {
    const session = this.sessions.get(guildId);
    return session && !session.ended ? session.row.voiceChannelId : undefined;
  }

  /** Joins the member's voice channel; refuses without moving when it may not or already listens elsewhere. */
  async start(guild: Guild, userId: string, textChannelId: string): Promise<StartResult> {
    const channel = voiceChannelOf(guild, userId);
    if (!channel) {
      return { kind: 'refused', message: 'Join a voice channel first, then run `/listen start` again.' };
    }
    if (this.starting.has(guild.id)) {
      return {
        kind: 'refused',
        message: 'Tracksmith is joining a voice channel here already. Try again in a moment.',
      };
    }
    const existing = this.listeningChannel(guild.id);
    if (existing !== undefined) {
      return {
        kind: 'refused',
        message:
          existing === channel.id
            ? `Tracksmith is already listening in ${channelMention(existing)}.`
            : `Tracksmith is already listening in ${channelMention(existing)}. Join it there, or ask whoever started it to \`/listen stop\` first.`,
      };
    }
    const me = guild.members.me;
    const refusal = me ? cannotPlayIn(channel, me) : 'Tracksmith cannot see its own permissions here yet.';
    if (refusal !== undefined) return { kind: 'refused', message: refusal };
    const row: VoiceSession = {
      guildId: guild.id,
      voiceChannelId: channel.id,
      textChannelId,
      startedBy: userId,
      statusMessageId: null,
      startedAt: this.now(),
    };
    this.starting.add(guild.id);
    let joined: boolean;
    try {
      await this.options.store.saveSession(row);
      joined = await this.join(guild, row);
    } finally {
      this.starting.delete(guild.id);
    }
    if (!joined) {
      await this.options.store.endSession(guild.id);
      return {
        kind: 'failed',
        message: `Tracksmith could not connect to ${channel.toString()}. Try again in a moment.`,
      };
    }
    return { kind: 'started', channelId: channel.id };
  }

  /** The public reply to `/listen start` becomes the now-playing line. */
  async attachStatusMessage(guildId: string, messageId: string): Promise<void> {
    const session = this.sessions.get(guildId);
    if (!session) return;
    session.row.statusMessageId = messageId;
    await this.options.store.setStatusMessage(guildId, messageId);
    await this.refreshStatus(session);
  }

  /** Queues a delivered track if the bot listens in its server; members outside voice included. */
  async trackDelivered(track: DeliveredTrack): Promise<void> {
    const session = this.sessions.get(track.guildId);
    if (!session || session.ended) return;
    // A delivery taken over after a crash may be reported twice; it plays once.
    const queued = await this.options.store.queue(track.guildId);
    if (queued.some((entry) => entry.trackId === track.trackId)) return;
    await this.append(session, track.trackId, track.userId);
  }

  /** Play in voice: anyone in the bot's channel may queue any track of the server. */
  async queueTrack(guild: Guild, userId: string, trackId: string): Promise<ActionResult> {
    const session = this.sessions.get(guild.id);
    if (!session || session.ended) return notListening;
    const inChannel = this.memberRefusal(guild, session, userId, 'queue tracks');
    if (inChannel) return inChannel;
    const position = await this.append(session, trackId, userId);
    return {
      kind: 'done',
      message:
        position === 0
          ? 'Playing it now.'
          : `Queued: ${position} track${position > 1 ? 's' : ''} ahead of it.`,
    };
  }

  skip(guild: Guild, userId: string): ActionResult {
    const session = this.sessions.get(guild.id);
    if (!session || session.ended) return notListening;
    const refusal = this.memberRefusal(guild, session, userId, 'skip');
    if (refusal) return refusal;
    if (!session.current) return { kind: 'refused', message: 'Nothing is playing.' };
    this.logger.info({ guildId: guild.id, trackId: session.current.trackId, userId }, 'track skipped');
    // The player goes idle at once, which moves on to the next track.
    session.abort?.abort();
    session.player.stop(true);
    return { kind: 'done', message: `⏭️ ${userMention(userId)} skipped a track.` };
  }

  async stop(guildId: string, userId: string, isModerator: boolean): Promise<ActionResult> {
    const session = this.sessions.get(guildId);
    if (!session || session.ended) return notListening;
    if (session.row.startedBy !== userId && !isModerator) {
      return {
        kind: 'refused',
        message: `Only ${userMention(session.row.startedBy)}, who started listening, or a moderator can stop it.`,
      };
    }
    await this.leave(session, 'stopped');
    return {
      kind: 'done',
      message: `⏹️ ${userMention(userId)} stopped listening in ${channelMention(session.row.voiceChannelId)}.`,
    };
  }

  async queue(guildId: string): Promise<QueueView | undefined> {
    const session = this.sessions.get(guildId);
    if (!session || session.ended) return undefined;
    const entries = await this.options.store.queue(guildId);
    const detailed = await Promise.all(
      entries.map(async (entry) => {
        const track = await this.options.tracks.get(entry.trackId);
        return { ...entry, trackNumber: track?.trackNumber ?? null, prompt: track?.prompt };
      }),
    );
    return { voiceChannelId: session.row.voiceChannelId, entries: detailed };
  }

  /** After a restart: rejoin every channel the bot was listening in and carry on with its queue. */
  async restore(): Promise<void> {
    for (const row of await this.options.store.sessions()) {
      const guild = this.options.client.guilds.cache.get(row.guildId);
      const channel = guild?.channels.cache.get(row.voiceChannelId);
      const me = guild?.members.me;
      const refusal =
        channel?.isVoiceBased() && me ? cannotPlayIn(channel, me) : 'the channel or server is gone';
      if (!guild || refusal !== undefined) {
        this.logger.warn({ guildId: row.guildId, reason: refusal }, 'not rejoining a voice channel');
        await this.options.store.endSession(row.guildId);
        continue;
      }
      this.logger.info(
        { guildId: row.guildId, channelId: row.voiceChannelId },
        'rejoining voice after a restart',
      );
      if (!(await this.join(guild, row))) await this.options.store.endSession(row.guildId);
    }
  }

  /** Leaves every channel without ending the sessions: the next start rejoins them. */
  close(): void {
    this.closing = true;
    for (const session of this.sessions.values()) {
      // Ended here means "no more events"; the store keeps the session and the track on the air.
      session.ended = true;
      this.teardown(session);
    }
    this.sessions.clear();
  }

  // ------------------------------------------------------------------ internals

  private memberRefusal(
    guild: Guild,
    session: Session,
    userId: string,
    what: string,
  ): ActionResult | undefined {
    if (voiceChannelOf(guild, userId)?.id === session.row.voiceChannelId) return undefined;
    return {
      kind: 'refused',
      message: `Join ${channelMention(session.row.voiceChannelId)} to ${what}.`,
    };
  }

  private async join(guild: Guild, row: VoiceSession): Promise<boolean> {
    const started = this.now();
    const connection = joinVoiceChannel({
      guildId: guild.id,
      channelId: row.voiceChannelId,
      adapterCreator: guild.voiceAdapterCreator,
      selfDeaf: true,
    });
    // A busy host may fall behind by a few frames; the library's default gives up on a track after
    // 5 missed (100 ms). Allow 5 s before a stalled stream counts as broken.
    const player = createAudioPlayer({ behaviors: { maxMissedFrames: 250 } });
    const session: Session = {
      row,
      connection,
      player,
      current: undefined,
      abort: undefined,
      next: undefined,
      aloneTimer: undefined,
      idleTimer: undefined,
      ended: false,
      advancing: Promise.resolve(),
    };
    this.sessions.set(guild.id, session);
    const log = this.logger.child({ guildId: guild.id, channelId: row.voiceChannelId });
    connection.on('error', (error) => log.warn({ err: error }, 'voice connection error'));
    player.on('error', (error) => log.warn({ err: error }, 'audio player error'));
    try {
      await entersState(connection, VoiceConnectionStatus.Ready, this.timings.joinTimeoutMs);
    } catch (error) {
      log.warn({ err: error }, 'could not join the voice channel');
      session.ended = true;
      this.teardown(session);
      this.sessions.delete(guild.id);
      return false;
    }
    const ms = this.now() - started;
    log.info({ joinMs: ms }, 'joined voice');
    connection.subscribe(player);
    connection.on(VoiceConnectionStatus.Disconnected, () => {
      // Moved to another channel, the library reconnects by itself; kicked or cut off, it does not.
      Promise.race([
        entersState(connection, VoiceConnectionStatus.Signalling, 5_000),
        entersState(connection, VoiceConnectionStatus.Connecting, 5_000),
      ]).catch(() => {
        if (!session.ended) void this.leave(session, 'disconnected');
      });
    });
    connection.on(VoiceConnectionStatus.Destroyed, () => {
      if (!session.ended && !this.closing) void this.leave(session, 'disconnected');
    });
    player.on(AudioPlayerStatus.Idle, () => {
      if (!session.ended) this.advance(session, session.current);
    });
    this.checkAlone(session, guild);
    this.advance(session, undefined);
    return true;
  }

  /** Opens the track after the one playing, if there is one and it is not open yet. */
  private async prepareNext(session: Session): Promise<void> {
    const [, following] = await this.options.store.queue(session.row.guildId);
    if (!following || hasEnded(session) || session.next?.entryId === following.id) return;
    const log = this.logger.child({ guildId: session.row.guildId, trackId: following.trackId });
    const opened = this.options.tracks
      .get(following.trackId)
      .then((track) =>
        track && track.guildId === session.row.guildId
          ? openTrack(this.options.client.rest, track, log)
          : undefined,
      );
    // A failure here is met again, and logged, when the track's turn comes.
    session.next = { entryId: following.id, opened: opened.catch(() => undefined) };
  }

  private async append(session: Session, trackId: string, userId: string): Promise<number> {
    await this.options.store.enqueue({
      guildId: session.row.guildId,
      trackId,
      requestedBy: userId,
      addedAt: this.now(),
    });
    const queue = await this.options.store.queue(session.row.guildId);
    if (!session.current) this.advance(session, undefined);
    else {
      void this.prepareNext(session);
      void this.refreshStatus(session);
    }
    return Math.max(0, queue.length - 1);
  }

  /** Moves past `finished` (if any) to the queue's head; one move at a time per session. */
  private advance(session: Session, finished: QueueEntry | undefined): void {
    session.advancing = session.advancing
      .then(() => this.playNext(session, finished))
      .catch((error: unknown) =>
        this.logger.error({ err: error, guildId: session.row.guildId }, 'voice queue failed'),
      );
  }

  private async playNext(session: Session, finished: QueueEntry | undefined): Promise<void> {
    if (session.ended) return;
    if (finished) {
      if (session.current?.id !== finished.id) return; // already moved past it
      await this.options.store.remove(finished.id);
      session.current = undefined;
    } else if (session.current) {
      return; // something is playing; it moves on when it ends
    }
    for (;;) {
      const [head] = await this.options.store.queue(session.row.guildId);
      // A stop or a leave may have come in while the store answered.
      if (hasEnded(session)) return;
      if (!head) {
        this.startIdleTimer(session);
        await this.refreshStatus(session);
        return;
      }
      this.clearIdleTimer(session);
      if (await this.play(session, head)) {
        void this.prepareNext(session);
        return;
      }
      await this.options.store.remove(head.id);
    }
  }

  /** Starts a track; false when its audio cannot be found or opened (it is then dropped). */
  private async play(session: Session, entry: QueueEntry): Promise<boolean> {
    const log = this.logger.child({ guildId: session.row.guildId, trackId: entry.trackId });
    const track = await this.options.tracks.get(entry.trackId);
    if (!track || track.guildId !== session.row.guildId) {
      log.warn('queued track not found');
      return false;
    }
    try {
      const next = session.next;
      session.next = undefined;
      const early = await next?.opened;
      const prepared = next?.entryId === entry.id ? early : undefined;
      // Opened for a track that is not the one due (it was dropped): let its download go.
      if (!prepared && early?.kind === 'ready') early.abort.abort();
      const opened = prepared ?? (await openTrack(this.options.client.rest, track, log));
      if (opened.kind === 'missing') {
        log.warn({ reason: opened.reason }, 'queued track has no audio; skipping it');
        return false;
      }
      const { resource, abort } = opened;
      session.abort = abort;
      session.current = entry;
      session.player.play(resource);
      // A stream that never yields its first frame would leave the player buffering for ever.
      entersState(session.player, AudioPlayerStatus.Playing, 15_000).catch(() => {
        if (session.current?.id === entry.id && !session.ended) {
          log.warn('track never started; moving on');
          abort.abort();
          session.player.stop(true);
        }
      });
      log.info('playing track');
      await this.refreshStatus(session);
      return true;
    } catch (error) {
      log.warn({ err: error }, 'could not open a queued track; skipping it');
      return false;
    }
  }

  private onVoiceState(before: VoiceState, after: VoiceState): void {
    const session = this.sessions.get(after.guild.id);
    if (!session || session.ended) return;
    if (after.id === after.client.user.id && after.channelId === null) {
      // Someone disconnected the bot (leaving by itself ends the session before this arrives).
      void this.leave(session, 'disconnected');
      return;
    }
    if (
      after.id === after.client.user.id &&
      after.channelId !== null &&
      after.channelId !== session.row.voiceChannelId
    ) {
      // Moved by a moderator: the library follows; the session follows too.
      session.row.voiceChannelId = after.channelId;
      void this.options.store.setVoiceChannel(session.row.guildId, after.channelId);
      void this.refreshStatus(session);
    }
    const watched = session.row.voiceChannelId;
    if (before.channelId === watched || after.channelId === watched || after.id === after.client.user.id) {
      this.checkAlone(session, after.guild);
    }
  }

  private checkAlone(session: Session, guild: Guild): void {
    const alone = listenersIn(guild, session.row.voiceChannelId) === 0;
    if (alone && session.aloneTimer === undefined) {
      session.aloneTimer = setTimeout(() => void this.leave(session, 'alone'), this.timings.aloneMs);
      session.aloneTimer.unref();
    } else if (!alone && session.aloneTimer !== undefined) {
      clearTimeout(session.aloneTimer);
      session.aloneTimer = undefined;
    }
  }

  private startIdleTimer(session: Session): void {
    if (session.idleTimer !== undefined) return;
    session.idleTimer = setTimeout(() => void this.leave(session, 'idle'), this.timings.idleMs);
    session.idleTimer.unref();
  }

  private clearIdleTimer(session: Session): void {
    if (session.idleTimer === undefined) return;
    clearTimeout(session.idleTimer);
    session.idleTimer = undefined;
  }

  /** Ends the session for good: leaves, forgets the queue and says why in the text channel. */
  private async leave(session: Session, reason: LeaveReason): Promise<void> {
    if (session.ended) return;
    session.ended = true;
    this.teardown(session);
    if (this.sessions.get(session.row.guildId) === session) this.sessions.delete(session.row.guildId);
    this.logger.info({ guildId: session.row.guildId, reason }, 'left voice');
    await this.options.store.endSession(session.row.guildId);
    const { rest } = this.options.client;
    const left = renderLeft(session.row.voiceChannelId, reason);
    await Promise.all([
      session.row.statusMessageId === null
        ? undefined
        : rest.patch(Routes.channelMessage(session.row.textChannelId, session.row.statusMessageId), {
            body: { content: left, allowed_mentions: noPings() },
          }),
      reason === 'stopped'
        ? undefined
        : rest.post(Routes.channelMessages(session.row.textChannelId), {
            body: { content: left, allowed_mentions: noPings() },
          }),
    ]).catch((error: unknown) => this.logger.warn({ err: error }, 'could not say the bot left voice'));
  }

  private teardown(session: Session): void {
    const next = session.next;
    session.next = undefined;
    void next?.opened.then((opened) => {
      if (opened?.kind === 'ready') opened.abort.abort();
    });
    clearTimeout(session.aloneTimer);
    clearTimeout(session.idleTimer);
    session.abort?.abort();
    session.player.stop(true);
    if (session.connection.state.status !== VoiceConnectionStatus.Destroyed) session.connection.destroy();
  }

  private async refreshStatus(session: Session): Promise<void> {
    const { statusMessageId, textChannelId, guildId } = session.row;
    if (statusMessageId === null || session.ended) return;
    const queue = await this.options.store.queue(guildId);
    const current = session.current && (await this.options.tracks.get(session.current.trackId));
    const content = renderStatus({
      voiceChannelId: session.row.voiceChannelId,
      playing:
        current && session.current
          ? { trackNumber: current.trackNumber, requestedBy: session.current.requestedBy }
          : undefined,
      upNext: Math.max(0, queue.length - (session.current ? 1 : 0)),
    });
    await this.options.client.rest
      .patch(Routes.channelMessage(textChannelId, statusMessageId), {
        body: { content, allowed_mentions: noPings() },
      })
      .catch((error: unknown) =>
        this.logger.warn({ err: error, guildId }, 'could not update the now-playing line'),
      );
  }
}

/** Read through a call, so the compiler does not assume it unchanged across an await. */
function hasEnded(session: Session): boolean {
  return session.ended;
}

/** What a voice command gets when the bot is not in a voice channel of the server. */
export const NOT_LISTENING =
  'Tracksmith is not listening in a voice channel here. Start with `/listen start`.';

const notListening: ActionResult = { kind: 'refused', message: NOT_LISTENING };
