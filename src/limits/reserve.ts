import { lockGuild, type Db } from '../store/db.js';
import type { TrackKind, Vocals } from '../store/schema.js';
import type { MessageCredit } from '../store/song.js';
import { createSettingsRepository } from '../store/settings-repository.js';
import { COUNTED_DRAFTS } from '../store/songwriting-repository.js';
import { createUsageRepository } from '../store/usage-repository.js';
import { checkDraft, checkRequest, type Decision, type DraftDecision } from './policy.js';
import { NUMERIC_SETTINGS, type GuildSettings } from './settings.js';
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

/**
 * Reserves through `reserveSlot`, one server's requests at a time in this process. The lock that
 * keeps one server's reservations in order is taken inside a transaction, and a transaction holds
 * a pooled connection while it waits: fifty requests from one server would otherwise take every
 * connection and stall everyone else's acknowledgements behind them. In line here they wait holding
 * nothing, and other servers' reservations go straight through.
 */
export function createReserver(db: Db): (request: ReservationRequest) => Promise<Reservation> {
  const lines = new Map<string, Promise<unknown>>();
  return (request) => {
    const ahead = lines.get(request.guildId) ?? Promise.resolve();
    const reservation = ahead.then(() => reserveSlot(db, request));
    const tail = reservation.catch(() => undefined);
    lines.set(request.guildId, tail);
    void tail.then(() => {
      if (lines.get(request.guildId) === tail) lines.delete(request.guildId);
    });
    return reservation;
  };
}

/**
 * Checks every limit and writes the ledger row in one transaction, so concurrent requests cannot
 * all read "2 of 3 used" and all go ahead: `lockGuild` serialises the reservations of one server
 * (SQLite's `begin immediate`, or a PostgreSQL advisory lock), across processes too.
 */
export async function reserveSlot(db: Db, request: ReservationRequest): Promise<Reservation> {
  return db.transaction().execute(async (trx) => {
    await lockGuild(trx, request.guildId);
    const settingsRepository = createSettingsRepository(trx);
    const usage = createUsageRepository(trx);
    const settings = await settingsRepository.get(request.guildId);
    const lengthSeconds = request.lengthSeconds ?? settings.defaultLengthSeconds;
    const dayStart = utcDayStart(request.now);
    const [usageNow, blockedWords] = await Promise.all([
      usage.limitsSnapshot(request.guildId, request.userId, {
        dayStart,
        monthStart: utcMonthStart(request.now),
        // The cooldown can be at most a day, so an older request cannot matter.
        lastRequestSince: request.now - MAX_COOLDOWN_MS,
      }),
      settingsRepository.blockedWords(request.guildId),
    ]);
    const decision = checkRequest({
      settings,
      usage: usageNow,
      request: { prompt: request.prompt, lengthSeconds },
      memberRoleIds: request.memberRoleIds,
      blockedWords,
      now: request.now,
    });
    if (!decision.allowed) return { ok: false, refusal: decision };
    await usage.insert({
      id: request.id,
      guild_id: request.guildId,
      channel_id: request.channelId,
      user_id: request.userId,
      prompt: request.prompt,
      length_seconds: lengthSeconds,
      status: 'queued',
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
    return { ok: true, lengthSeconds, queued: decision.queued, settings };
  });
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
