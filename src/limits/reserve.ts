import { lockGuild, type Db } from '../store/db.js';
import type { MessageCredit } from '../domain/song.js';
import type { TrackKind, Vocals } from '../domain/track.js';
import { createSettingsRepository } from '../store/settings-repository.js';
import { COUNTED_DRAFTS } from '../store/songwriting-repository.js';
import { createUsageRepository } from '../store/usage-repository.js';
import {
  guildAfterReserving,
  guildUsage,
  insertReservation,
  memberAfterReserving,
  memberUsage,
  type GuildUsage,
  type MemberUsage,
} from '../store/reservation-statements.js';
import { checkDraft, checkRequest, type Decision, type DraftDecision, type UsageSnapshot } from './policy.js';
import { NUMERIC_SETTINGS, type GuildSettings } from '../domain/settings.js';
import { utcDayStart, utcMonthStart } from './time.js';

export interface ReservationRequest {
  id: string;
  guildId: string;
  channelId: string;
  userId: string;
  memberRoleIds: readonly string[];
  prompt: string;
  /** Undefined: the server's default length. */
  lengthSeconds: number | undefined;
  kind: TrackKind;
  /** The track this one regenerates or remixes. */
  parentId?: string | undefined;
  /** Where the answer goes, kept so that a restarted bot can still deliver it. */
  reply: { applicationId: string; interactionToken: string; uploadLimitBytes: number };
  /** What the member chose beyond the prompt, recorded with the track. */
  song?: SongRecord | undefined;
  now: number;
}

/** A track's song details as the reservation records them (the lyrics in full). */
export interface SongRecord {
  style?: string | undefined;
  lyrics?: string | undefined;
  vocals?: Vocals | undefined;
  prefsApplied?: string | undefined;
  credit?: MessageCredit | undefined;
}

/** The longest cooldown a server can set, as `NUMERIC_SETTINGS` bounds it. */
const MAX_COOLDOWN_MS = NUMERIC_SETTINGS.cooldownSeconds.max * 1000;

export type Reservation =
  | { ok: true; lengthSeconds: number; queued: boolean; settings: GuildSettings }
  | { ok: false; refusal: Extract<Decision, { allowed: false }> };

export interface ReserverOptions {
  /** Most reservations in one transaction, and most of them from one server. */
  maxBatch?: number;
  maxPerGuild?: number;
}

interface Waiting {
  request: ReservationRequest;
  resolve: (reservation: Reservation) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: the reservations that arrive while one transaction runs (in a burst, the whole of
 * one event-loop turn's interactions) go together in the next, checked one after another inside
 * it, so each sees the rows of those before it and every limit stays exact. A burst then costs a
 * few transactions rather than one each, with the server's settings and blocked words read once
 * per transaction.
 *
 * One transaction at a time in this process: waiting requests hold no pooled connection, so fifty
 * requests from one server cannot take every connection and stall everyone else's
 * acknowledgements. A server gets at most `maxPerGuild` places in one transaction, so a flood from
 * one server is spread over several and another server's request goes in the first.
 */
export function createReserver(
  db: Db,
  options: ReserverOptions = {},
): (request: ReservationRequest) => Promise<Reservation> {
  const maxBatch = options.maxBatch ?? 256;
  const maxPerGuild = options.maxPerGuild ?? 8;
  let waiting: Waiting[] = [];
  let running = false;

  const takeBatch = (): Waiting[] => {
    const batch: Waiting[] = [];
    const rest: Waiting[] = [];
    const perGuild = new Map<string, number>();
    for (const each of waiting) {
      const count = perGuild.get(each.request.guildId) ?? 0;
      if (batch.length < maxBatch && count < maxPerGuild) {
        batch.push(each);
        perGuild.set(each.request.guildId, count + 1);
      } else {
        rest.push(each);
      }
    }
    waiting = rest;
    return batch;
  };

  const drain = async () => {
    running = true;
    try {
      while (waiting.length > 0) {
        // Let the rest of this turn's interactions join the transaction, and, after one, let its
        // acknowledgements go out before the next runs: better-sqlite3 answers synchronously, so
        // a transaction holds the event loop for as long as it runs.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = takeBatch();
        try {
          const reservations = await reserveSlots(
            db,
            batch.map((each) => each.request),
          );
          batch.forEach((each, i) => {
            const reservation = reservations[i];
            if (reservation) each.resolve(reservation);
            else each.reject(new Error('no reservation came back for this request'));
          });
        } catch {
          // One bad request (a duplicate ID, say) must not fail the rest: the transaction rolled
          // back, so each goes again on its own, and only its own error reaches its caller.
          for (const each of batch) {
            await reserveSlots(db, [each.request]).then(
              ([reservation]) =>
                reservation ? each.resolve(reservation) : each.reject(new Error('no reservation')),
              each.reject,
            );
          }
        }
      }
    } finally {
      running = false;
    }
  };

  return (request) =>
    new Promise<Reservation>((resolve, reject) => {
      waiting.push({ request, resolve, reject });
      if (!running) void drain();
    });
}

/** One reservation in a transaction of its own (see `reserveSlots`). */
export async function reserveSlot(db: Db, request: ReservationRequest): Promise<Reservation> {
  const [reservation] = await reserveSlots(db, [request]);
  if (!reservation) throw new Error('no reservation came back for this request');
  return reservation;
}

/**
 * Checks every limit and writes the ledger row in one transaction, so concurrent requests cannot
 * all read "2 of 3 used" and all go ahead: `lockGuild` serialises the reservations of one server
 * (SQLite's `begin immediate`, or a PostgreSQL advisory lock), across processes too. Several
 * requests go in order in one transaction. The lock holds for all of it, so the server's figures
 * are read once and each reservation is counted into them in memory, as are a member's after their
 * first request: each request still sees the rows of those before it. The servers are locked in
 * sorted order, so two processes' transactions cannot deadlock.
 */
export async function reserveSlots(db: Db, requests: readonly ReservationRequest[]): Promise<Reservation[]> {
  if (requests.length === 0) return [];
  return db.transaction().execute(async (trx) => {
    const guildIds = [...new Set(requests.map((request) => request.guildId))].sort();
    for (const guildId of guildIds) await lockGuild(trx, guildId);
    const settingsRepository = createSettingsRepository(trx);
    // Read once per server: the lock keeps them from changing under this transaction.
    const servers = new Map(
      await Promise.all(
        guildIds.map(
          async (guildId) =>
            [
              guildId,
              new ServerTally(
                await settingsRepository.get(guildId),
                await settingsRepository.blockedWords(guildId),
              ),
            ] as const,
        ),
      ),
    );
    const reservations: Reservation[] = [];
    for (const request of requests) {
      const server = servers.get(request.guildId);
      if (!server) throw new Error(`server ${request.guildId} was not read`);
      reservations.push(await reserveOne(trx, server, request));
    }
    return reservations;
  });
}

/**
 * One server's limits inside a reservation transaction: its settings, and its usage as read once
 * and then kept up to date with the rows this transaction writes. A request in a new UTC day or
 * month (a batch that straddles midnight) reads afresh.
 */
class ServerTally {
  /** The UTC day the figures below are for; a month starts on a day's start, so it covers that too. */
  private dayStart: number | undefined;
  private guild: GuildUsage = { guildToday: 0, guildCreditsThisMonth: 0, guildInFlight: 0 };
  private readonly members = new Map<string, MemberUsage>();

  constructor(
    readonly settings: GuildSettings,
    readonly blockedWords: readonly string[],
  ) {}

  async usage(trx: Db, request: ReservationRequest): Promise<UsageSnapshot> {
    const dayStart = utcDayStart(request.now);
    if (this.dayStart !== dayStart) {
      this.dayStart = dayStart;
      this.guild = await guildUsage(trx, request.guildId, {
        dayStart,
        monthStart: utcMonthStart(request.now),
      });
      this.members.clear();
    }
    let member = this.members.get(request.userId);
    if (member === undefined) {
      member = await memberUsage(trx, request.guildId, request.userId, {
        dayStart,
        // The cooldown can be at most a day, so an older request cannot matter.
        lastRequestSince: request.now - MAX_COOLDOWN_MS,
      });
      this.members.set(request.userId, member);
    }
    return { ...this.guild, ...member };
  }

  /** Counts a reservation just written, as `usage` would read it back. */
  reserved(request: ReservationRequest): void {
    this.guild = guildAfterReserving(this.guild);
    const member = this.members.get(request.userId);
    if (member) this.members.set(request.userId, memberAfterReserving(member, request.now));
  }
}

async function reserveOne(trx: Db, server: ServerTally, request: ReservationRequest): Promise<Reservation> {
  const { settings } = server;
  const lengthSeconds = request.lengthSeconds ?? settings.defaultLengthSeconds;
  const decision = checkRequest({
    settings,
    usage: await server.usage(trx, request),
    request: { prompt: request.prompt, lengthSeconds },
    memberRoleIds: request.memberRoleIds,
    blockedWords: server.blockedWords,
    now: request.now,
  });
  if (!decision.allowed) return { ok: false, refusal: decision };
  await insertReservation(trx, {
    id: request.id,
    guild_id: request.guildId,
    channel_id: request.channelId,
    user_id: request.userId,
    prompt: request.prompt,
    length_seconds: lengthSeconds,
    generation_id: null,
    credits_used: null,
    requested_at: request.now,
    submitted_at: null,
    completed_at: null,
    error: null,
    application_id: request.reply.applicationId,
    interaction_token: request.reply.interactionToken,
    upload_limit_bytes: request.reply.uploadLimitBytes,
    reply_message_id: null,
    delivery: null,
    kind: request.kind,
    parent_id: request.parentId ?? null,
    track_number: null,
    actual_seconds: null,
    generation_ms: null,
    deleted_at: null,
    deleted_by: null,
    style: request.song?.style ?? null,
    lyrics: request.song?.lyrics ?? null,
    vocals: request.song?.vocals ?? null,
    prefs_applied: request.song?.prefsApplied ?? null,
    source_message_id: request.song?.credit?.messageId ?? null,
    source_channel_id: request.song?.credit?.channelId ?? null,
    source_author_id: request.song?.credit?.authorId ?? null,
    source_author_name: request.song?.credit?.authorName ?? null,
  });
  server.reserved(request);
  return { ok: true, lengthSeconds, queued: decision.queued, settings };
}

export interface DraftReservationRequest {
  id: string;
  guildId: string;
  channelId: string;
  userId: string;
  memberRoleIds: readonly string[];
  idea: string;
  style: string | null;
  now: number;
}

/**
 * Checks a lyrics draft against the member's daily allowance, blocked words and the server's
 * credits, and records it as pending, in one transaction like `reserveSlot`: two drafts at once
 * cannot both take the last one of the day.
 */
export async function reserveDraft(db: Db, request: DraftReservationRequest): Promise<DraftDecision> {
  return db.transaction().execute(async (trx) => {
    await lockGuild(trx, request.guildId);
    const settingsRepository = createSettingsRepository(trx);
    const settings = await settingsRepository.get(request.guildId);
    const [drafts, credits, blockedWords] = await Promise.all([
      trx
        .selectFrom('lyrics_drafts')
        .where('guild_id', '=', request.guildId)
        .where('user_id', '=', request.userId)
        .where('requested_at', '>=', utcDayStart(request.now))
        .where('status', 'in', COUNTED_DRAFTS)
        .select((eb) => eb.fn.countAll<number | bigint | string>().as('n'))
        .executeTakeFirst(),
      createUsageRepository(trx).creditsGuildSince(request.guildId, utcMonthStart(request.now)),
      settingsRepository.blockedWords(request.guildId),
    ]);
    const decision = checkDraft({
      settings,
      userDraftsToday: Number(drafts?.n ?? 0),
      guildCreditsThisMonth: credits,
      text: request.style === null ? request.idea : `${request.idea}\n${request.style}`,
      memberRoleIds: request.memberRoleIds,
      blockedWords,
      now: request.now,
    });
    if (!decision.allowed) return decision;
    await trx
      .insertInto('lyrics_drafts')
      .values({
        id: request.id,
        guild_id: request.guildId,
        channel_id: request.channelId,
        user_id: request.userId,
        idea: request.idea,
        style: request.style,
        lyrics: null,
        status: 'pending',
        credits_used: null,
        requested_at: request.now,
      })
      .execute();
    return decision;
  });
}
