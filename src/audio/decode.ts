import { MPEGDecoder } from 'mpg123-decoder';

/** PCM samples, one array per channel, all the same length (possibly zero). */
export interface DecodedPcm {
  sampleRate: number;
  channels: Float32Array[];
}

/** A streaming mp3 decoder: feed it chunks in order; a chunk may yield no samples yet. */
export interface Mp3Decoder {
  decode(chunk: Uint8Array): DecodedPcm;
  free(): void;
}

/**
 * mpg123 compiled to WebAssembly: no system binary, no native build, and it keeps its own frame
 * buffer between chunks, so a file can be decoded as it streams.
 */
export async function createMp3Decoder(): Promise<Mp3Decoder> {
  const decoder = new MPEGDecoder();
  await decoder.ready;
  return {
    decode(chunk) {
      const out = decoder.decode(chunk);
      return {
        sampleRate: out.sampleRate,
        channels: out.samplesDecoded === 0 ? out.channelData.map(() => new Float32Array(0)) : out.channelData,
      };
    },
    free: () => decoder.free(),
  };
}
