import { sql } from 'kysely';
import type { Db } from './db.js';
import { prepareQuery } from './prepared.js';
import { COUNTED, IN_FLIGHT, type Aggregate, type NewUsageRow } from './usage-repository.js';

/**
 * The two statements every reservation runs, compiled once (see `prepared.ts`): they run once per
 * `/music`, inside the reservation's transaction, while the member waits for the acknowledgement.
 */

export interface LimitsWindow {
  dayStart: number;
  monthStart: number;
  /** How far back the member's latest request matters (the longest cooldown). */
  lastRequestSince: number;
}

export interface LimitsSnapshot {
  userToday: number;
  guildToday: number;
  guildCreditsThisMonth: number;
  userLastRequestAt: number | null;
  guildInFlight: number;
}

const counted = () => sql.join(COUNTED.map((status) => sql`${status}`));
const inFlight = () => sql.join(IN_FLIGHT.map((status) => sql`${status}`));

const snapshotQuery = prepareQuery(
  (db: Db, v: { guildId: string; userId: string; dayStart: number; monthStart: number; earliest: number }) =>
    db
      .selectFrom('usage')
      .where('guild_id', '=', v.guildId)
      .where((eb) => eb.or([eb('requested_at', '>=', v.earliest), eb('status', 'in', IN_FLIGHT)]))
      .select([
        sql<Aggregate | null>`sum(case when user_id = ${v.userId} and requested_at >= ${v.dayStart} and status in (${counted()}) then 1 else 0 end)`.as(
          'user_today',
        ),
        sql<Aggregate | null>`sum(case when requested_at >= ${v.dayStart} and status in (${counted()}) then 1 else 0 end)`.as(
          'guild_today',
        ),
        sql<Aggregate | null>`sum(case when requested_at >= ${v.monthStart} then credits_used else 0 end)`.as(
          'credits',
        ),
        sql<Aggregate | null>`max(case when user_id = ${v.userId} and status in (${counted()}) then requested_at end)`.as(
          'last_request',
        ),
        sql<Aggregate | null>`sum(case when status in (${inFlight()}) then 1 else 0 end)`.as('in_flight'),
        // Lyrics drafts spend the same monthly credits; read in the same statement.
        (eb) =>
          eb
            .selectFrom('lyrics_drafts')
            .where('lyrics_drafts.guild_id', '=', v.guildId)
            .where('lyrics_drafts.requested_at', '>=', v.monthStart)
            .select((inner) => inner.fn.sum<Aggregate | null>('lyrics_drafts.credits_used').as('n'))
            .as('lyrics_credits'),
      ]),
);

/**
 * Every number the limits need for one request, in one statement: the member's and the server's
 * tracks since `dayStart`, the server's credits since `monthStart` (tracks and lyrics drafts), the
 * member's latest request (looked for back to `lastRequestSince`) and the server's requests in
 * flight.
 */
export async function limitsSnapshot(
  db: Db,
  guildId: string,
  userId: string,
  window: LimitsWindow,
): Promise<LimitsSnapshot> {
  const { dayStart, monthStart, lastRequestSince } = window;
  const { rows } = await snapshotQuery.execute(db, {
    guildId,
    userId,
    dayStart,
    monthStart,
    earliest: Math.min(dayStart, monthStart, lastRequestSince),
  });
  const row = rows[0];
  return {
    userToday: Number(row?.user_today ?? 0),
    guildToday: Number(row?.guild_today ?? 0),
    guildCreditsThisMonth: Number(row?.credits ?? 0) + Number(row?.lyrics_credits ?? 0),
    userLastRequestAt: row?.last_request == null ? null : Number(row.last_request),
    guildInFlight: Number(row?.in_flight ?? 0),
  };
}

/** The columns a reservation writes: all of them but the ones the row gains later. */
export type ReservedRow = Required<Omit<NewUsageRow, 'submitting_at'>>;

const insertQuery = prepareQuery((db: Db, row: ReservedRow) => db.insertInto('usage').values(row));

/** Writes the reservation's ledger row. */
export async function insertReservation(db: Db, row: ReservedRow): Promise<void> {
  await insertQuery.execute(db, row);
}
