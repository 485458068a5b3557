import OpusScript from 'opusscript';
import { describe, expect, it } from 'vitest';
import { createMp3Decoder } from '../../src/audio/decode.js';
import { FRAME_SAMPLES, mp3ToOpus } from '../../src/audio/opus-stream.js';
import { Resampler } from '../../src/audio/resample.js';
import { makeMp3, toneHz } from '../fakes/mp3.js';
import { dominantFrequency, rms } from '../support/tone.js';

function sine(hz: number, rate: number, seconds: number): Float32Array {
  const out = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = 0.5 * Math.sin((2 * Math.PI * hz * i) / rate);
  return out;
}

function resampleInChunks(input: Float32Array, sizes: number[]): Float32Array {
  const resampler = new Resampler(44_100, 48_000);
  const parts: Float32Array[] = [];
  for (let at = 0, i = 0; at < input.length; i++) {
    const size = sizes[i % sizes.length] ?? 1;
    parts.push(resampler.process(input.subarray(at, at + size)));
    at += size;
  }
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

describe('44.1 → 48 kHz resampling', () => {
  it('keeps the pitch and the length: a 1 kHz tone stays 1 kHz, one second stays one second', () => {
    const out = resampleInChunks(sine(1_000, 44_100, 1), [4_410]);
    // The filter holds back its half-length (16 input samples) until more input arrives.
    expect(Math.abs(out.length - 48_000)).toBeLessThan(20);
    const middle = out.subarray(10_000, 34_000);
    expect(dominantFrequency(middle, 48_000, { fromHz: 900, toHz: 1_100, stepHz: 1 })).toBe(1_000);
    expect(rms(middle)).toBeCloseTo(0.5 / Math.SQRT2, 2);
  });

  it('gives the same samples whatever the chunk sizes', () => {
    const input = sine(440, 44_100, 0.5);
    const whole = resampleInChunks(input, [input.length]);
    const ragged = resampleInChunks(input, [1, 7, 1_152, 3, 999]);
    expect(ragged.length).toBe(whole.length);
    let worst = 0;
    for (let i = 0; i < whole.length; i++)
      worst = Math.max(worst, Math.abs((whole[i] ?? 0) - (ragged[i] ?? 0)));
    expect(worst).toBeLessThan(1e-6);
  });

  it('filters out what the lower rate cannot carry: a tone above 24 kHz does not fold back', () => {
    const resampler = new Resampler(48_000, 44_100);
    const out = resampler.process(sine(23_000, 48_000, 0.5));
    // 23 kHz is above 22.05 kHz: without filtering it would alias to 21.1 kHz at full level.
    expect(rms(out.subarray(1_000))).toBeLessThan(0.05);
  });
});

describe('mp3 → Opus', () => {
  it('decodes an mp3 in pieces of any size (the shared decoder interface)', async () => {
    const decoder = await createMp3Decoder();
    const mp3 = makeMp3({ seconds: 1, toneLine: 35 });
    let samples = 0;
    let rate = 0;
    for (let at = 0; at < mp3.length; at += 333) {
      const pcm = decoder.decode(mp3.subarray(at, at + 333));
      samples += pcm.channels[0]?.length ?? 0;
      if (pcm.channels.length > 0) rate = pcm.sampleRate;
    }
    decoder.free();
    expect(rate).toBe(44_100);
    expect(Math.abs(samples - 44_100)).toBeLessThan(1_200);
  });

  it('makes 20 ms stereo frames at 48 kHz that decode to the track’s own tone', async () => {
    const mp3 = makeMp3({ seconds: 2, toneLine: 23 });
    const chunks = (function* () {
      for (let at = 0; at < mp3.length; at += 4_096) yield mp3.subarray(at, at + 4_096);
    })();
    const decoder = new OpusScript(48_000, 2);
    const left: number[] = [];
    let packets = 0;
    for await (const packet of mp3ToOpus(chunks)) {
      packets++;
      const pcm = decoder.decode(packet);
      const ints = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
      expect(ints.length).toBe(FRAME_SAMPLES * 2);
      for (let i = 0; i < ints.length; i += 2) left.push((ints[i] ?? 0) / 32_768);
    }
    decoder.delete();
    expect(packets).toBeGreaterThanOrEqual(99);
    expect(packets).toBeLessThanOrEqual(102);
    const middle = Float32Array.from(left.slice(24_000, 72_000));
    expect(Math.abs(dominantFrequency(middle, 48_000, { stepHz: 1 }) - toneHz(23))).toBeLessThan(3);
  });
});
