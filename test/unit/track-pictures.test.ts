import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { createTrackPictures, type PictureOrder } from '../../src/discord/track-pictures.js';
import type { Job } from '../../src/generation/ports.js';
import { makeMp3, makeNotAudio } from '../fakes/mp3.js';
import { captureLogs } from '../support/log.js';

const job = (id: string) => ({ id }) as Job;

/** A promise and the function that resolves it. */
function gate() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('waveforms drawn after delivery', () => {
  const mp3 = makeMp3({ seconds: 2 });

  it('draws each picture once, one at a time, and settles when all are on their messages', async () => {
    const logs = captureLogs();
    const pictures = createTrackPictures({ logger: logs.logger });
    const drawn: { id: string; width: number; peaks: number }[] = [];
    let running = 0;
    let most = 0;
    const order = (id: string): PictureOrder => ({
      job: job(id),
      mp3,
      addPicture: async (picture, peaks) => {
        most = Math.max(most, ++running);
        // A turn of the event loop inside the edit, as a real request has.
        await new Promise((resolve) => setImmediate(resolve));
        drawn.push({ id, width: PNG.sync.read(picture).width, peaks: peaks.length });
        running--;
      },
    });
    for (const id of ['a', 'b', 'c']) await pictures.add(order(id));
    await pictures.settle();
    expect(drawn).toEqual(['a', 'b', 'c'].map((id) => ({ id, width: 640, peaks: 160 })));
    expect(most).toBe(1);
  });

  it('makes a delivery wait for room once the backlog is full', async () => {
    const pictures = createTrackPictures({ logger: captureLogs().logger, backlog: 2 });
    const first = gate();
    const firstStarted = gate();
    const done: string[] = [];
    const order = (id: string, before?: () => Promise<void>): PictureOrder => ({
      job: job(id),
      mp3,
      addPicture: async () => {
        await before?.();
        done.push(id);
      },
    });
    await pictures.add(
      order('a', async () => {
        firstStarted.open();
        await first.opened;
      }),
    );
    await pictures.add(order('b'));
    let thirdQueued = false;
    const third = pictures.add(order('c')).then(() => (thirdQueued = true));
    // 'a' is being edited and 'b' waits: the backlog of two is full until 'a' ends.
    await firstStarted.opened;
    expect(thirdQueued).toBe(false);
    first.open();
    await third;
    expect(done[0]).toBe('a');
    await pictures.settle();
    expect(done).toEqual(['a', 'b', 'c']);
  });

  it('gives up on a file it cannot decode and on an edit Discord refuses, and carries on', async () => {
    const logs = captureLogs();
    const pictures = createTrackPictures({ logger: logs.logger });
    const edited: string[] = [];
    await pictures.add({
      job: job('not-audio'),
      mp3: makeNotAudio(4096),
      addPicture: () => {
        edited.push('not-audio');
        return Promise.resolve();
      },
    });
    await pictures.add({
      job: job('refused'),
      mp3,
      addPicture: () => Promise.reject(new Error('404 10008 Unknown Message')),
    });
    await pictures.add({
      job: job('fine'),
      mp3,
      addPicture: () => {
        edited.push('fine');
        return Promise.resolve();
      },
    });
    await pictures.settle();
    expect(edited).toEqual(['fine']);
    const warnings = logs.lines.filter((l) => l.level === 40).map((l) => [l.requestId, l.msg]);
    expect(warnings).toEqual([
      ['not-audio', 'no audio to draw a waveform from'],
      ['refused', 'could not add the waveform'],
    ]);
  });
});
