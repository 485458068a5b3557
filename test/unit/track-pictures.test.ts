import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { createTrackPictures, type PictureOrder } from '../../src/discord/track-pictures.js';
import type { Job } from '../../src/generation/ports.js';
import { makeMp3, makeNotAudio } from '../fakes/mp3.js';
import { gate } from '../support/gate.js';
import { captureLogs } from '../support/log.js';

const job = (id: string) => ({ id }) as Job;

describe('waveforms drawn after delivery', () => {
  const mp3 = makeMp3({ seconds: 2 });

  it('draws one picture at a time, sends past a slow edit, and settles when all are on their messages', async () => {
    let drawingNow = 0;
    let mostDrawing = 0;
    const pictures = createTrackPictures({
      logger: captureLogs().logger,
      // Called inside each drawing's turn: a turn of the event loop there shows any overlap.
      idle: async () => {
        mostDrawing = Math.max(mostDrawing, ++drawingNow);
        await new Promise((resolve) => setImmediate(resolve));
        drawingNow--;
      },
    });
    const slowEdit = gate();
    const sent: { id: string; width: number; peaks: number }[] = [];
    const bothSent = gate();
    const order = (id: string, before?: Promise<void>): PictureOrder => ({
      job: job(id),
      mp3,
      addPicture: async (picture, peaks) => {
        await before;
        sent.push({ id, width: PNG.sync.read(picture).width, peaks: peaks.length });
        if (sent.length === 2) bothSent.open();
      },
    });
    await pictures.add(order('a', slowEdit.opened));
    for (const id of ['b', 'c']) await pictures.add(order(id));
    // 'a's edit hangs (a retry, a rate limit); 'b' and 'c' are drawn and sent all the same.
    await bothSent.opened;
    expect(sent.map((s) => s.id)).toEqual(['b', 'c']);
    slowEdit.open();
    await pictures.settle();
    expect(sent).toEqual(['b', 'c', 'a'].map((id) => ({ id, width: 640, peaks: 160 })));
    expect(mostDrawing).toBe(1);
  });

  it('makes a delivery wait for room once the backlog of undrawn tracks is full', async () => {
    const firstDrawing = gate();
    const firstStarted = gate();
    let drawings = 0;
    const pictures = createTrackPictures({
      logger: captureLogs().logger,
      backlog: 2,
      idle: async () => {
        if (drawings++ > 0) return;
        firstStarted.open();
        await firstDrawing.opened;
      },
    });
    const done: string[] = [];
    const order = (id: string): PictureOrder => ({
      job: job(id),
      mp3,
      addPicture: () => {
        done.push(id);
        return Promise.resolve();
      },
    });
    await pictures.add(order('a'));
    await pictures.add(order('b'));
    let thirdQueued = false;
    const third = pictures.add(order('c')).then(() => (thirdQueued = true));
    // 'a' is being drawn and 'b' waits, each holding its mp3: no room until 'a' is drawn.
    await firstStarted.opened;
    expect(thirdQueued).toBe(false);
    firstDrawing.open();
    await third;
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
