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
  addPicture(picture: Buffer, peaks: number[]): Promise<void>;
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
 * audio and the picture a few more; done before the upload, every member waited for it, and a burst of tracks
 * finishing together waited for each other's. One at a time, so deliveries and status checks get
 * the event loop between them.
 */
export function createTrackPictures(options: TrackPicturesOptions): TrackPictures {
  const { logger, backlog = 16 } = options;
  const oneAtATime = pLimit(1);
  const queued = new Set<Promise<void>>();

  const draw = async (order: PictureOrder) => {
    const { job } = order;
    try {
      await options.idle?.();
      const peaks = await waveformPeaks(order.mp3);
      if (peaks === undefined) {
        logger.warn({ requestId: job.id }, 'no audio to draw a waveform from');
        return;
      }
      await order.addPicture(drawWaveform(peaks), peaks);
    } catch (error) {
      // The member has the track; only its picture is missing.
      logger.warn({ requestId: job.id, reason: describe(error) }, 'could not add the waveform');
    }
  };

  return {
    async add(order) {
      // p-limit has no bound on its queue, so the wait for room is kept here.
      while (queued.size >= backlog) await Promise.race(queued);
      const done = oneAtATime(() => draw(order)).finally(() => queued.delete(done));
      queued.add(done);
    },
    async settle() {
      while (queued.size > 0) await Promise.all(queued);
    },
  };
}
