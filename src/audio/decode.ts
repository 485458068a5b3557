import { MPEGDecoder } from 'mpg123-decoder';

/** Decoded samples of one chunk, one Float32Array per channel (all empty when the chunk held no whole frame). */
interface DecodedPcm {
  sampleRate: number;
  channels: Float32Array[];
}

/** A streaming mp3 decoder: feed it bytes as they arrive, get samples back; `free` releases its WASM memory. */
export interface Mp3Decoder {
  decode(chunk: Uint8Array): DecodedPcm;
  free(): void;
}

/**
 * mpg123 compiled to WASM: no system binary, and it keeps its own frame buffer between calls, so
 * chunks may split frames anywhere.
 */
export async function createMp3Decoder(): Promise<Mp3Decoder> {
  const decoder = new MPEGDecoder();
  await decoder.ready;
  return {
    decode(chunk) {
      const out = decoder.decode(chunk);
      return { sampleRate: out.sampleRate, channels: out.samplesDecoded === 0 ? [] : out.channelData };
    },
    free: () => decoder.free(),
  };
}
