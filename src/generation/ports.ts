import type { GenerationRequest, PollResult, SubmittedGeneration } from '../aiml/types.js';
import type { MessageCredit, SongDetails } from '../domain/song.js';
import { requested, type JobState } from './job.js';

export type { GenerationRequest, MessageCredit, PollResult, SongDetails, SubmittedGeneration };

/** The music provider as the core sees it; `aiml/client.ts` is the real one. */
export interface Provider {
  create(request: GenerationRequest): Promise<SubmittedGeneration>;
  poll(generationId: string): Promise<PollResult>;
}

/** Time, so that the scheduler can be driven by a test clock. */
export interface Clock {
  now(): number;
  /** Runs `callback` once after `delayMs`; returns a function that cancels it. */
  setTimer(callback: () => void, delayMs: number): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (callback, delayMs) => {
    const timer = setTimeout(callback, delayMs);
    // Pending polls alone must not keep a stopping process alive.
    timer.unref();
    return () => {
      clearTimeout(timer);
    };
  },
};

/**
 * Where the request came from and where its answer goes. The core treats it as data: only the
 * chat adapter (the Reporter) knows what the reply coordinates mean.
 */
export interface RequestOrigin {
  guildId: string;
  channelId: string;
  userId: string;
  /**
   * Coordinates of the deferred reply (an interaction webhook on Discord), and the message's own
   * ID once known, for when the interaction token has expired.
   */
  reply: { applicationId: string; interactionToken: string; messageId?: string };
  /** The largest file the reply may carry, in bytes. */
  uploadLimitBytes: number;
}

export type JobPhase =
  | 'queued'
  | 'submitting'
  | 'generating'
  | 'downloading'
  | 'delivering'
  | 'completed'
  | 'failed'
  | 'cancelled';

/** Phases in which a member may still cancel: the provider has not finished the track. */
export const CANCELLABLE_PHASES: readonly JobPhase[] = ['queued', 'submitting', 'generating'];

/** Whether the job has ended (rather than been left for the next start, or still running). */
export function hasEnded(job: Pick<Job, 'phase'>): boolean {
  return job.phase === 'completed' || job.phase === 'failed' || job.phase === 'cancelled';
}

/** How many of `jobs` are in each phase. */
export function countByPhase(jobs: Iterable<Pick<Job, 'phase'>>): Partial<Record<JobPhase, number>> {
  const counts: Partial<Record<JobPhase, number>> = {};
  for (const { phase } of jobs) counts[phase] = (counts[phase] ?? 0) + 1;
  return counts;
}

/** Where a track came from when it builds on an earlier one. */
export interface Lineage {
  kind: 'regenerate' | 'remix';
  parentId: string;
  /** The parent's per-server number, when it was delivered. */
  parentNumber?: number;
  parentUserId: string;
}

export interface Job {
  /** Our own ID for the request, used in logs from the interaction to the delivery. */
  readonly id: string;
  readonly request: GenerationRequest;
  readonly origin: RequestOrigin;
  readonly createdAt: number;
  /** What the reply shows: in line, generating, downloading… */
  phase: JobPhase;
  /** Where the job is in its life, with what the next step needs (see `job.ts`). */
  state: JobState;
  completedAt?: number;
  creditsUsed?: number;
  polls: number;
  /** Place in line while `phase` is `queued` (1 = next). */
  queuePosition?: number;
  lineage?: Lineage;
  song?: SongDetails;
  /** Per-server number, given just before delivery. */
  trackNumber?: number;
  /** Length of the delivered file, read from the mp3 itself. */
  actualSeconds?: number;
  /** Who cancelled the job, once someone has. */
  cancelledBy?: string;
  /** When the track reached the member. */
  deliveredAt?: number;
  /** Estimated time the provider spent making it, from submission. */
  generationMs?: number;
}

/** Told when a job ends (completed, failed or cancelled), e.g. to count it in metrics. */
export interface JobObserver {
  finished(job: Job): void;
  /**
   * A job found with its "submitting" mark and no generation ID is being submitted again: the
   * process carrying it stopped between the POST and the ledger, so the provider may charge twice.
   */
  resubmitted?(job: Job): void;
}

/**
 * How ledger writes fare, so that the bot can say when its store is out of reach: a failed write
 * that is being retried marks it down, the next write that lands marks it up.
 */
export interface StoreWatch {
  failed(error: unknown): void;
  succeeded(): void;
  /** Whether trying again may help (a connection refused or broken, a lock held), rather than a bug. */
  isTransient(error: unknown): boolean;
}

/** The usage ledger as the core sees it: one row per request, moved along as the job goes. */
export interface JobLedger {
  /** The mark written before the provider's POST, so that a crash in between is seen on restart. */
  submitting(job: Job): Promise<void>;
  submitted(job: Job): Promise<void>;
  /** Gives the track its per-server number, or returns the one it already has. */
  numbered(job: Job): Promise<number>;
  completed(job: Job, delivery: string): Promise<void>;
  /** Stopped by a member; the slot goes back like a failure's. */
  cancelled(job: Job): Promise<void>;
  /** The job ended without a track; its slot goes back to the member and the server. */
  failed(job: Job, reason: string): Promise<void>;
  /**
   * A request that ended before any step ran (it was never acknowledged, or never queued):
   * nothing was spent, and its slot goes back like a failure's.
   */
  abandoned(id: string, reason: string): Promise<void>;
  /** Keeps the message that carries the reply, for edits after the interaction token expires. */
  replyMessage(job: Job, messageId: string): Promise<void>;
}

/** Why a track went out as a link rather than a file. */
export type LinkReason = 'too-large' | 'upload-failed';

export type Delivery =
  | { kind: 'file'; data: Buffer; fileName: string }
  /**
   * The member gets the file's address instead: it is larger than the reply may carry, or Discord
   * would not take the upload (a link is a few hundred bytes where the file is megabytes).
   */
  | {
      kind: 'link';
      url: string;
      sizeBytes: number | undefined;
      limitBytes: number;
      because: LinkReason;
    };

/**
 * What one message to the member did. `carriedBy` is set when the call learned which message
 * carries the reply from now on (the first edit of the deferred reply, or a new message that had
 * to replace it); the core then records it on the job and in the ledger.
 */
export interface Reported {
  carriedBy?: string;
}

/** A final message: how the member got it (e.g. the reply edited, or a new message). */
export interface FinalReport extends Reported {
  route: string;
}

/** A generation the provider has accepted, as the next step (tracking, checking) needs it. */
export interface Generation {
  generationId: string;
  submittedAt: number;
}

/**
 * How outcomes leave the core. The Discord layer implements it; the core never sees discord.js.
 * It reads the job and reports what it did; it changes nothing on the job itself.
 */
export interface Reporter {
  /** Best effort: a failed progress update never fails the job. */
  progress(job: Job): Promise<Reported>;
  delivered(job: Job, delivery: Delivery): Promise<FinalReport>;
  failed(job: Job, userMessage: string): Promise<FinalReport>;
  cancelled(job: Job): Promise<FinalReport>;
  /** Whether the member's reply already holds this job's finished track (a delivery cut short). */
  holdsTrack(job: Job): Promise<boolean>;
}

export type CancelResult = 'cancelled' | 'too-late' | 'not-running';

/** How much work a queue holds, for `/healthz` and `/metrics`. */
export interface QueueDepth {
  /** Requests waiting for a generation slot. */
  waiting: number;
  /** Requests of this process by phase (a queue worker counts the steps it is running). */
  byPhase: Partial<Record<JobPhase, number>>;
  /** For a shared queue: jobs waiting for a worker, and jobs parked until their next step is due. */
  shared?: { ready: number; delayed: number; active: number };
}

/**
 * What became of a request handed to the queue: `queued`, or `left` because the queue is stopping.
 * A request left keeps its unfinished ledger row, and the next start resumes it from there.
 */
export type Enqueued = 'queued' | 'left';

/**
 * Where accepted requests go to be made. The default runs them in this process; the Redis one
 * (BullMQ) spreads them over any number of worker processes. Callers cannot tell which they have.
 */
export interface JobQueue {
  readonly kind: 'in-process' | 'redis';
  /**
   * Takes a request whose ledger row exists, and resolves once it is safely queued. Queuing the
   * same ID again while it is known does nothing: a request is made and delivered once. Once
   * `stop()` has begun, a request is left to the ledger instead, whatever the queue's connection
   * does meanwhile: a deploy must not tell a member their request failed, nor end it.
   */
  enqueue(job: Job): Promise<Enqueued>;
  /** Asks for a request to stop; the job then edits its own reply to say who stopped it. */
  cancel(id: string, byUserId: string): Promise<CancelResult>;
  depth(): Promise<QueueDepth>;
  /** Stops taking work and waits for the steps in flight to end; unfinished jobs resume later. */
  stop(): Promise<void>;
}

/** A track that reached its member, as the side that plays tracks in voice channels hears of it. */
export interface DeliveredTrack {
  guildId: string;
  trackId: string;
  userId: string;
}

/**
 * Tells other processes of each delivered track. With split roles a worker delivers while the
 * gateway holds the voice connections; a backend whose jobs stay in one process has none.
 */
export interface DeliveryRelay {
  publish(track: DeliveredTrack): Promise<void>;
  /** Listens until the returned function is called. */
  subscribe(onTrack: (track: DeliveredTrack) => Promise<void>): Promise<() => Promise<void>>;
}

/** What a backend's own services say about themselves, for `/healthz` (e.g. `{ redis: 'ok' }`). */
export type BackendHealth = Record<string, 'ok' | 'unreachable'>;

/**
 * A queue with everything it runs on: the app picks one at start (in process, or Redis) and then
 * only starts, stops and asks after it.
 */
export interface QueueBackend {
  readonly queue: JobQueue;
  /** Present when delivered tracks must cross processes to reach the voice side. */
  readonly relay?: DeliveryRelay;
  /**
   * Opens what the queue runs on, before anything is enqueued; fails with a plain reason when
   * that cannot be reached at start. Takes no work yet.
   */
  connect(): Promise<void>;
  /** Starts taking work: the worker of a shared queue (the in-process queue works from `enqueue`). */
  start(): Promise<void>;
  /**
   * Stops taking work, waits for the steps in flight (which may still write the ledger: the store
   * closes after this), then closes what `connect` opened.
   */
  stop(): Promise<void>;
  health(): Promise<BackendHealth>;
}

/** A request as accepted, before any step has run. */
export function newJob(
  id: string,
  request: GenerationRequest,
  origin: RequestOrigin,
  createdAt: number,
  lineage?: Lineage,
  song?: SongDetails,
): Job {
  return {
    id,
    request,
    origin,
    createdAt,
    phase: 'submitting',
    state: requested,
    polls: 0,
    ...(lineage ? { lineage } : {}),
    ...(song ? { song } : {}),
  };
}
