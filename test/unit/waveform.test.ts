import { describe, expect, it } from 'vitest';
import { layer3Frames } from '../../src/audio/mp3-frames.js';
import { waveformPeaks } from '../../src/audio/waveform.js';
import { makeMp3, mp3FrameCount, mp3FrameLengths } from '../fakes/mp3.js';

describe('mp3 frames', () => {
  it('finds every frame after the ID3 tag, from the headers alone', () => {
    for (const bitrateKbps of [128, 320] as const) {
      const mp3 = makeMp3({ seconds: 3, bitrateKbps });
      const frames = layer3Frames(mp3);
      // The Info frame first, then the audio.
      expect(frames?.offsets).toHaveLength(mp3FrameCount(3) + 1);
      expect(frames?.samplesPerFrame).toBe(1152);
      expect(frames?.end).toBe(mp3.length);
      const offsets = frames?.offsets ?? [];
      const lengths = [...offsets.slice(1), mp3.length].map((end, i) => end - (offsets[i] ?? 0));
      expect(lengths).toEqual(mp3FrameLengths(mp3FrameCount(3) + 1, bitrateKbps));
    }
  });

  it('skips junk between frames and finds nothing in a file that is not mp3', () => {
    const clean = makeMp3({ seconds: 1, id3: false });
    const junk = Buffer.concat([Buffer.from('junk before the audio'), clean]);
    expect(layer3Frames(junk)?.offsets.length).toBe(layer3Frames(clean)?.offsets.length);
    expect(layer3Frames(Buffer.from('not audio at all'))).toBeUndefined();
  });
});

describe('waveform of a long track', () => {
  // Long enough to be sampled rather than decoded whole: loud, silent, loud, a minute each.
  const loud = makeMp3({ seconds: 60, id3: false });
  const silent = makeMp3({ seconds: 60, id3: false, tone: false });
  const track = Buffer.concat([loud, silent, loud]);

  it('samples it and still shows where it is loud and where it is silent', async () => {
    expect(layer3Frames(track)?.offsets.length).toBeGreaterThan(160 * 16);
    const peaks = await waveformPeaks(track);
    expect(peaks).toHaveLength(160);
    const third = (n: number) =>
      (peaks ?? []).slice(Math.round((n * 160) / 3), Math.round(((n + 1) * 160) / 3));
    // The bars at each border may hold either side.
    expect(new Set(third(0).slice(0, -1))).toEqual(new Set([255]));
    expect(new Set(third(1).slice(1, -1))).toEqual(new Set([0]));
    expect(new Set(third(2).slice(1))).toEqual(new Set([255]));
  });
});
