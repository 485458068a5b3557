import pLimit from 'p-limit';
import { drawWaveform, waveformPeaks } from '../audio/waveform.js';
import type { Job } from '../generation/ports.js';
import type { Logger } from '../log.js';
import { describe } from './discord-errors.js';

/** A delivered file whose message is to get its waveform. */
export interface PictureOrder {
  job: Job;
  mp3: Uint8Array;
  /** Puts the drawn picture on the track's message; may throw (the message is gone, Discord refused). */
  addPicture: (picture: Buffer, peaks: number[]) => Promise<void>;
}

export interface TrackPicturesOptions {
  logger: Logger;
  /**
   * Resolves when tracks are not being posted: a picture waits its turn behind them, since a
   * member waits for the track and nobody waits for its picture.
   */
  idle?: () => Promise<void>;
  /** Pictures waiting their turn before `add` makes a delivery wait: each holds its whole mp3. */
  backlog?: number;
}

export interface TrackPictures {
  /**
   * Queues the waveform of a delivered track. Resolves once it is queued, not drawn, unless the
   * backlog is full: then it first waits for room, so a burst of deliveries cannot pile up files.
   */
  add(order: PictureOrder): Promise<void>;
  /** Resolves once every queued picture is drawn and sent (or given up). */
  settle(): Promise<void>;
}

/**
 * Draws waveforms after their tracks are out. Decoding costs about 1 ms of CPU per second of
 * audio and the picture a few more; done before the upload, every member waited for it, and a burst
 * of tracks finishing together waited for each other's. Drawing is one at a time, so deliveries and
 * status checks get the event loop between pictures; sending is not, so a slow edit (a retry, a
 * rate limit) holds up neither the next picture nor, through the backlog, the next delivery.
 */
export function createTrackPictures(options: TrackPicturesOptions): TrackPictures {
  const { logger, backlog = 16 } = options;
  const drawing = pLimit(1);
  // Edits overlap the next drawing; a few at once keep a slow Discord from piling requests up.
  const sending = pLimit(4);
  /** Orders still holding their mp3 (waiting to be drawn, or being drawn): what the backlog bounds. */
  const holding = new Set<Promise<unknown>>();
  /** Every picture not yet on its message or given up, for `settle`. */
  const unfinished = new Set<Promise<void>>();

  const draw = async (job: Job, mp3: Uint8Array) => {
    await options.idle?.();
    const peaks = await waveformPeaks(mp3);
    if (peaks === undefined) {
      logger.warn({ requestId: job.id }, 'no audio to draw a waveform from');
      return undefined;
    }
    return { picture: drawWaveform(peaks), peaks };
  };

  return {
    async add(order) {
      // p-limit has no bound on its queue, so the wait for room is kept here.
      while (holding.size >= backlog) await Promise.race(holding);
      // Taken apart so that nothing left waiting for the edit keeps the mp3 alive.
      const { job, mp3, addPicture } = order;
      const drawn = drawing(() => draw(job, mp3));
      const held: Promise<unknown> = drawn.catch(() => undefined).finally(() => holding.delete(held));
      holding.add(held);
      const done: Promise<void> = drawn
        .then(async (made) => {
          if (made) await sending(() => addPicture(made.picture, made.peaks));
        })
        .catch((error: unknown) => {
          // The member has the track; only its picture is missing.
          logger.warn({ requestId: job.id, reason: describe(error) }, 'could not add the waveform');
        })
        .finally(() => unfinished.delete(done));
      unfinished.add(done);
    },
    async settle() {
      while (unfinished.size > 0) await Promise.all(unfinished);
    },
  };
}
