import OpusScript from 'opusscript';
import { createMp3Decoder } from './decode.js';
import { Resampler } from './resample.js';

/** Discord voice: Opus at 48 kHz, stereo, 20 ms frames. */
const OPUS_RATE = 48_000;
const OPUS_CHANNELS = 2;
export const FRAME_SAMPLES = 960;

/**
 * Turns an mp3 byte stream into Opus packets, one per 20 ms, as the bytes arrive: only one
 * network chunk and less than a frame of PCM are held at a time, so memory stays flat whatever the
 * track's length. The encoder is opusscript's WASM build (no native addon, no system binary).
 */
export async function* mp3ToOpus(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<Buffer> {
  const decoder = await createMp3Decoder();
  const encoder = new OpusScript(OPUS_RATE, OPUS_CHANNELS, OpusScript.Application.AUDIO);
  let resamplers: Resampler[] | undefined;
  let inputRate = 0;
  // Interleaved 16-bit stereo, filled up to one frame.
  const frame = new Int16Array(FRAME_SAMPLES * OPUS_CHANNELS);
  let filled = 0;
  try {
    for await (const chunk of source) {
      const pcm = decoder.decode(chunk);
      const left = pcm.channels[0];
      if (left === undefined || left.length === 0) continue;
      const right = pcm.channels[1] ?? left;
      if (resamplers === undefined || pcm.sampleRate !== inputRate) {
        inputRate = pcm.sampleRate;
        resamplers = [new Resampler(inputRate, OPUS_RATE), new Resampler(inputRate, OPUS_RATE)];
      }
      const [l, r] = [resamplers[0]?.process(left), resamplers[1]?.process(right)];
      if (l === undefined || r === undefined) continue;
      for (let i = 0; i < l.length; i++) {
        frame[filled++] = toInt16(l[i] ?? 0);
        frame[filled++] = toInt16(r[i] ?? 0);
        if (filled === frame.length) {
          yield encode(encoder, frame);
          filled = 0;
        }
      }
    }
    if (filled > 0) {
      frame.fill(0, filled);
      yield encode(encoder, frame);
    }
  } finally {
    decoder.free();
    encoder.delete();
  }
}

function encode(encoder: OpusScript, frame: Int16Array): Buffer {
  const pcm = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  // The result is a view into the encoder's WASM memory, which the next call overwrites.
  return Buffer.from(encoder.encode(pcm, FRAME_SAMPLES));
}

function toInt16(sample: number): number {
  const clamped = Math.max(-1, Math.min(1, sample));
  return Math.round(clamped * 32_767);
}
