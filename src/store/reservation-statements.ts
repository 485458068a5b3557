import { sql } from 'kysely';
import type { Db } from './db.js';
import { prepareQuery } from './prepared.js';
import type { UsageStatus } from '../domain/track.js';
import {
  COUNTED,
  IN_FLIGHT,
  lyricsCreditsSince,
  type Aggregate,
  type NewUsageRow,
} from './usage-repository.js';

/**
 * The statements a reservation runs inside its transaction while the member waits for the
 * acknowledgement, compiled once (see `prepared.ts`). The server's figures scan its month of rows,
 * so a transaction reads them once per server and counts its own rows in memory
 * (`guildAfterReserving`); a member's figures are a short index range, read once per member.
 */

export interface LimitsWindow {
  dayStart: number;
  monthStart: number;
  /** How far back the member's latest request matters (the longest cooldown). */
  lastRequestSince: number;
}

/** The server's side of the limits: shared by every request from it in one transaction. */
export interface GuildUsage {
  guildToday: number;
  guildCreditsThisMonth: number;
  guildInFlight: number;
}

/** One member's side of the limits. */
export interface MemberUsage {
  userToday: number;
  userLastRequestAt: number | null;
}

const counted = () => sql.join(COUNTED.map((status) => sql`${status}`));
const inFlight = () => sql.join(IN_FLIGHT.map((status) => sql`${status}`));
/** How many of the statement's rows count against the limits from `since` on. */
const countedSince = (since: number) =>
  sql<Aggregate | null>`sum(case when requested_at >= ${since} and status in (${counted()}) then 1 else 0 end)`;

const guildQuery = prepareQuery((db: Db, v: { guildId: string; dayStart: number; monthStart: number }) =>
  db
    .selectFrom('usage')
    .where('guild_id', '=', v.guildId)
    // A month starts on a day's start, so the month's rows hold today's too.
    .where((eb) => eb.or([eb('requested_at', '>=', v.monthStart), eb('status', 'in', IN_FLIGHT)]))
    .select([
      countedSince(v.dayStart).as('guild_today'),
      sql<Aggregate | null>`sum(case when requested_at >= ${v.monthStart} then credits_used else 0 end)`.as(
        'credits',
      ),
      sql<Aggregate | null>`sum(case when status in (${inFlight()}) then 1 else 0 end)`.as('in_flight'),
      (eb) => lyricsCreditsSince(eb, v.guildId, v.monthStart),
    ]),
);

// The member's own rows only: a range of the (guild, user, time) index, however busy the server.
const memberQuery = prepareQuery(
  (db: Db, v: { guildId: string; userId: string; dayStart: number; earliest: number }) =>
    db
      .selectFrom('usage')
      .where('guild_id', '=', v.guildId)
      .where('user_id', '=', v.userId)
      .where('requested_at', '>=', v.earliest)
      .select([
        countedSince(v.dayStart).as('user_today'),
        sql<Aggregate | null>`max(case when status in (${counted()}) then requested_at end)`.as(
          'last_request',
        ),
      ]),
);

/**
 * The server's tracks since `dayStart`, its credits since `monthStart` (tracks and lyrics drafts)
 * and its requests in flight, in one statement.
 */
export async function guildUsage(
  db: Db,
  guildId: string,
  window: Pick<LimitsWindow, 'dayStart' | 'monthStart'>,
): Promise<GuildUsage> {
  const { rows } = await guildQuery.execute(db, {
    guildId,
    dayStart: window.dayStart,
    monthStart: window.monthStart,
  });
  const row = rows[0];
  return {
    guildToday: Number(row?.guild_today ?? 0),
    guildCreditsThisMonth: Number(row?.credits ?? 0) + Number(row?.lyrics_credits ?? 0),
    guildInFlight: Number(row?.in_flight ?? 0),
  };
}

/** The member's tracks since `dayStart`, and their latest request (looked for back to `lastRequestSince`). */
export async function memberUsage(
  db: Db,
  guildId: string,
  userId: string,
  window: Pick<LimitsWindow, 'dayStart' | 'lastRequestSince'>,
): Promise<MemberUsage> {
  const { dayStart, lastRequestSince } = window;
  const { rows } = await memberQuery.execute(db, {
    guildId,
    userId,
    dayStart,
    earliest: Math.min(dayStart, lastRequestSince),
  });
  const row = rows[0];
  return {
    userToday: Number(row?.user_today ?? 0),
    userLastRequestAt: row?.last_request == null ? null : Number(row.last_request),
  };
}

/** A reservation's row (see `insertReservation`): counted, and in flight, from the moment it is written. */
const RESERVED_STATUS: UsageStatus = 'queued';

/** The server's usage once a reservation is written: what the statement above would now read. */
export function guildAfterReserving(usage: GuildUsage): GuildUsage {
  return { ...usage, guildToday: usage.guildToday + 1, guildInFlight: usage.guildInFlight + 1 };
}

/** The member's usage once their reservation made at `now` is written. */
export function memberAfterReserving(usage: MemberUsage, now: number): MemberUsage {
  return {
    userToday: usage.userToday + 1,
    userLastRequestAt: Math.max(usage.userLastRequestAt ?? now, now),
  };
}

/** The columns a reservation writes: all of them but the ones the row gains later. */
export type ReservedRow = Required<Omit<NewUsageRow, 'submitting_at'>>;

const insertQuery = prepareQuery((db: Db, row: ReservedRow) => db.insertInto('usage').values(row));

/** Writes the reservation's ledger row (its status is always `queued`). */
export async function insertReservation(db: Db, row: Omit<ReservedRow, 'status'>): Promise<void> {
  await insertQuery.execute(db, { ...row, status: RESERVED_STATUS });
}
