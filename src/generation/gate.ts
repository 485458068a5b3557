/**
 * Admission for generations: at most `globalLimit` run at once across the bot, and at most
 * `guildLimit(guild)` for one server. The rest wait, served round-robin across servers and then
 * across the members of each server, so a busy server (or one busy member) cannot starve the others.
 */
export interface GateTicket {
  /** Resolves when the job may run. */
  readonly admitted: Promise<void>;
  /** Gives the slot back (or leaves the line); safe to call twice. */
  release(): void;
}

export type PositionListener = (position: number) => void;

export interface FairGateOptions {
  globalLimit: number;
  guildLimit: (guildId: string) => number;
}

interface Waiter {
  admit: () => void;
  onPosition: PositionListener | undefined;
  lastPosition: number;
}

/** One server's waiting jobs, by member. */
type GuildLine = Map<string, Waiter[]>;

export class FairGate {
  private total = 0;
  private readonly runningByGuild = new Map<string, number>();
  private readonly lines = new Map<string, GuildLine>();
  /**
   * When each server, and each member within it, was last served. The least recently served goes
   * next, which is round-robin that also remembers a server whose line emptied while it ran.
   */
  private served = 0;
  private readonly guildServedAt = new Map<string, number>();
  private readonly userServedAt = new Map<string, Map<string, number>>();

  constructor(private readonly options: FairGateOptions) {}

  /** Jobs running now, for one server or for all. */
  active(guildId?: string): number {
    return guildId === undefined ? this.total : (this.runningByGuild.get(guildId) ?? 0);
  }

  /** Jobs waiting for a slot. */
  waiting(): number {
    let n = 0;
    for (const line of this.lines.values()) for (const queue of line.values()) n += queue.length;
    return n;
  }

  enter(guildId: string, userId: string, onPosition?: PositionListener): GateTicket {
    let state: 'waiting' | 'running' | 'done' = 'waiting';
    let admit!: () => void;
    const admitted = new Promise<void>((resolve) => {
      admit = () => {
        state = 'running';
        this.total++;
        this.runningByGuild.set(guildId, this.active(guildId) + 1);
        resolve();
      };
    });
    const waiter: Waiter = { admit, onPosition, lastPosition: 0 };
    const line = this.lines.get(guildId) ?? new Map<string, Waiter[]>();
    const queue = line.get(userId) ?? [];
    queue.push(waiter);
    line.set(userId, queue);
    this.lines.set(guildId, line);
    this.pump();

    return {
      admitted,
      release: () => {
        if (state === 'done') return;
        if (state === 'running') {
          this.total--;
          const left = this.active(guildId) - 1;
          if (left > 0) this.runningByGuild.set(guildId, left);
          else this.runningByGuild.delete(guildId);
        } else {
          this.remove(guildId, userId, waiter);
        }
        state = 'done';
        this.forgetIfIdle(guildId);
        this.pump();
      },
    };
  }

  /** Lets every waiting job through at once (shutdown: each then sees that the bot is stopping). */
  close(): void {
    const waiters = this.order();
    this.lines.clear();
    for (const waiter of waiters) waiter.admit();
  }

  /** Admits as many as the limits allow, then tells those still waiting their place in line. */
  private pump(): void {
    while (this.total < this.options.globalLimit) {
      const next = this.takeNext();
      if (!next) break;
      next.admit();
    }
    this.announce();
  }

  /** The least recently served server under its own limit, then its least recently served member. */
  private takeNext(): Waiter | undefined {
    const guildId = this.byRecency(
      [...this.lines.keys()].filter((id) => this.active(id) < this.options.guildLimit(id)),
      this.guildServedAt,
    )[0];
    const line = guildId === undefined ? undefined : this.lines.get(guildId);
    if (guildId === undefined || !line) return undefined;
    const users = this.userServedAt.get(guildId) ?? new Map<string, number>();
    const userId = this.byRecency([...line.keys()], users)[0];
    if (userId === undefined) return undefined;
    const waiter = line.get(userId)?.shift();
    this.served++;
    this.guildServedAt.set(guildId, this.served);
    users.set(userId, this.served);
    this.userServedAt.set(guildId, users);
    if (line.get(userId)?.length === 0) line.delete(userId);
    if (line.size === 0) this.lines.delete(guildId);
    return waiter;
  }

  /** Stable sort by last service, never-served first; ties keep arrival order. */
  private byRecency(ids: string[], servedAt: ReadonlyMap<string, number>): string[] {
    return ids.sort((a, b) => (servedAt.get(a) ?? 0) - (servedAt.get(b) ?? 0));
  }

  private remove(guildId: string, userId: string, waiter: Waiter): void {
    const line = this.lines.get(guildId);
    const queue = line?.get(userId);
    if (!line || !queue) return;
    const index = queue.indexOf(waiter);
    if (index >= 0) queue.splice(index, 1);
    if (queue.length === 0) line.delete(userId);
    if (line.size === 0) this.lines.delete(guildId);
  }

  /** A server with nothing running or waiting starts afresh next time, so memory stays bounded. */
  private forgetIfIdle(guildId: string): void {
    if (this.active(guildId) > 0 || this.lines.has(guildId)) return;
    this.guildServedAt.delete(guildId);
    this.userServedAt.delete(guildId);
  }

  /**
   * Everyone waiting, in the order they would be admitted if slots freed one at a time and no
   * server were at its own limit: round r takes each server's r-th job, and a server's own jobs
   * alternate between its members.
   */
  private order(): Waiter[] {
    const guilds = this.byRecency([...this.lines.keys()], this.guildServedAt);
    const perGuild = guilds.map((guildId) => {
      const line = this.lines.get(guildId) ?? new Map<string, Waiter[]>();
      const users = this.byRecency([...line.keys()], this.userServedAt.get(guildId) ?? new Map());
      return interleave(users.map((userId) => line.get(userId) ?? []));
    });
    return interleave(perGuild);
  }

  private announce(): void {
    this.order().forEach((waiter, index) => {
      const position = index + 1;
      if (waiter.lastPosition === position) return;
      waiter.lastPosition = position;
      waiter.onPosition?.(position);
    });
  }
}

/** Round-robin merge: the first of each list, then the second of each, and so on. */
function interleave<T>(lists: readonly (readonly T[])[]): T[] {
  const out: T[] = [];
  const longest = Math.max(0, ...lists.map((list) => list.length));
  for (let round = 0; round < longest; round++) {
    for (const list of lists) {
      const item = list[round];
      if (item !== undefined) out.push(item);
    }
  }
  return out;
}
