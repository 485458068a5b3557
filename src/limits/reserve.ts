import { lockGuild, type Db } from '../store/db.js';
import type { TrackKind } from '../store/schema.js';
import { createSettingsRepository } from '../store/settings-repository.js';
import { createUsageRepository } from '../store/usage-repository.js';
import { checkRequest, type Decision } from './policy.js';
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
  now: number;
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
    });
    return { ok: true, lengthSeconds, queued: decision.queued, settings };
  });
}
