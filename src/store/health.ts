import type { StoreWatch } from '../generation/ports.js';

/**
 * Whether the store is reachable, as the bot's own writes find it. A write that fails with a fault
 * trying again can mend marks it down; from then on a probe runs every `probeIntervalMs` until one
 * answers, so the flag comes back up even when no job is writing. While it is down, new requests
 * are refused before anything is reserved or sent, and `/healthz` answers 503.
 */
export class StoreHealth implements StoreWatch {
  private downSince: number | undefined;
  private lastError: string | undefined;
  private probing: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly options: {
      /** A cheap query that needs what writes need (a connection; on SQLite, the write lock). */
      probe: () => Promise<void>;
      probeIntervalMs?: number;
      now?: () => number;
      onDown?: (error: unknown) => void;
      onUp?: (downForMs: number) => void;
    },
  ) {}

  get up(): boolean {
    return this.downSince === undefined;
  }

  /** For `/healthz`: since when, and the last fault's message (never a connection string). */
  status(): { ok: true } | { ok: false; downSinceMs: number; error: string | undefined } {
    return this.downSince === undefined
      ? { ok: true }
      : { ok: false, downSinceMs: this.downSince, error: this.lastError };
  }

  /** The work's own result; a store fault on the way down is recorded first. */
  watch<T>(work: Promise<T>): Promise<T> {
    return work.catch((error: unknown) => {
      this.failed(error);
      throw error;
    });
  }

  failed(error: unknown): void {
    if (!this.isTransient(error)) return;
    this.lastError = error instanceof Error ? error.message.slice(0, 200) : String(error).slice(0, 200);
    if (this.downSince !== undefined) return;
    this.downSince = (this.options.now ?? Date.now)();
    this.options.onDown?.(error);
    this.startProbing();
  }

  succeeded(): void {
    if (this.downSince === undefined) return;
    const downFor = (this.options.now ?? Date.now)() - this.downSince;
    this.downSince = undefined;
    this.lastError = undefined;
    this.stopProbing();
    this.options.onUp?.(downFor);
  }

  isTransient(error: unknown): boolean {
    return isTransientStoreError(error);
  }

  close(): void {
    this.closed = true;
    this.stopProbing();
  }

  private startProbing(): void {
    if (this.probing !== undefined || this.closed) return;
    let inFlight = false;
    this.probing = setInterval(() => {
      if (inFlight) return;
      inFlight = true;
      this.options
        .probe()
        .then(
          () => this.succeeded(),
          (error: unknown) => this.failed(error),
        )
        .finally(() => (inFlight = false));
    }, this.options.probeIntervalMs ?? 1_000);
    this.probing.unref();
  }

  private stopProbing(): void {
    clearInterval(this.probing);
    this.probing = undefined;
  }
}

/**
 * Faults of the connection or of a lock, which pass; as opposed to a constraint or a query the
 * store rejects, which would fail the same way forever. PostgreSQL's SQLSTATE classes 08
 * (connection), 53 (resources), 57 (operator intervention: shutdown, terminated backend, database
 * not accepting connections) and 40 (serialization, deadlock); SQLite's busy and locked codes;
 * and the socket errors a pooled client reports.
 */
export function isTransientStoreError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (/^(08|53|57|40)[0-9A-Z]{3}$/.test(code)) return true;
    if (/^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|PROTOCOL)/.test(code)) return true;
    if (/^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH)$/.test(code))
      return true;
    // 3D000: the database does not exist (yet) or is being recreated; 55000 with the message below:
    // it is not accepting connections (ALLOW_CONNECTIONS false during maintenance or a failover).
    if (code === '3D000') return true;
  }
  return /Connection terminated|not currently accepting connections|terminating connection|connection (?:was )?(?:closed|lost|refused)|timeout exceeded when trying to connect|Client has encountered a connection error|database is locked|not queryable/i.test(
    error.message,
  );
}
