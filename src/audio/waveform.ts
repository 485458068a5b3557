import { PNG } from 'pngjs';
import { createMp3Decoder } from './decode.js';

/** How many columns a waveform has: enough for a crisp picture on a phone and in an embed. */
export const WAVEFORM_BARS = 160;

/**
 * The loudness outline of an mp3: the peak level of each of `bars` equal slices of the audio, as
 * whole numbers from 0 to 255. Small enough to keep beside the track and draw again at any size.
 * Returns undefined when the file holds no decodable audio.
 */
export async function waveformPeaks(mp3: Uint8Array, bars = WAVEFORM_BARS): Promise<number[] | undefined> {
  const decoder = await createMp3Decoder();
  const blocks: Float32Array[] = [];
  let total = 0;
  try {
    // Decoded in slices so a long file is never held twice as PCM of every channel, and the event
    // loop gets a turn between them: a five-minute track takes about two seconds of CPU, which
    // must not hold up the gateway's heartbeats and interactions in one block.
    const slice = 64 * 1024;
    for (let at = 0; at < mp3.length; at += slice) {
      if (at > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const { channels } = decoder.decode(mp3.subarray(at, at + slice));
      const first = channels[0];
      if (first === undefined || first.length === 0) continue;
      // Mixed to one channel: a picture shows loudness, not stereo placement.
      const mixed = new Float32Array(first.length);
      for (const channel of channels) {
        for (let i = 0; i < mixed.length; i++) mixed[i] = (mixed[i] ?? 0) + Math.abs(channel[i] ?? 0);
      }
      for (let i = 0; i < mixed.length; i++) mixed[i] = (mixed[i] ?? 0) / channels.length;
      blocks.push(mixed);
      total += mixed.length;
    }
  } finally {
    decoder.free();
  }
  if (total === 0) return undefined;
  const peaks = new Array<number>(bars).fill(0);
  let index = 0;
  for (const block of blocks) {
    for (const sample of block) {
      const bar = Math.min(bars - 1, Math.floor((index * bars) / total));
      if (sample > (peaks[bar] ?? 0)) peaks[bar] = sample;
      index++;
    }
  }
  // Scaled to the loudest bar, so a quiet track still shows its shape.
  const loudest = Math.max(...peaks);
  return peaks.map((p) => (loudest === 0 ? 0 : Math.round((p / loudest) * 255)));
}

export interface WaveformStyle {
  width: number;
  height: number;
  /** RGB of the bars and of the background. */
  bar: readonly [number, number, number];
  background: readonly [number, number, number];
}

export const DEFAULT_WAVEFORM_STYLE: WaveformStyle = {
  width: 640,
  height: 120,
  bar: [0x58, 0x65, 0xf2],
  background: [0x1e, 0x1f, 0x22],
};

/** Draws peaks as mirrored bars with a gap between them; a silent track is a thin centre line. */
export function drawWaveform(
  peaks: readonly number[],
  style: WaveformStyle = DEFAULT_WAVEFORM_STYLE,
): Buffer {
  const { width, height, bar, background } = style;
  const png = new PNG({ width, height, colorType: 2 });
  const data = png.data;
  for (let i = 0; i < width * height; i++) {
    data[i * 4] = background[0];
    data[i * 4 + 1] = background[1];
    data[i * 4 + 2] = background[2];
    data[i * 4 + 3] = 255;
  }
  const count = Math.max(1, peaks.length);
  const column = width / count;
  const middle = height / 2;
  for (let b = 0; b < count; b++) {
    const level = (peaks[b] ?? 0) / 255;
    const half = Math.max(1, Math.round(level * (middle - 2)));
    const left = Math.floor(b * column);
    const right = Math.max(left + 1, Math.floor((b + 1) * column) - (column >= 3 ? 1 : 0));
    for (let x = left; x < right && x < width; x++) {
      for (let y = Math.floor(middle - half); y < Math.ceil(middle + half); y++) {
        const at = (y * width + x) * 4;
        data[at] = bar[0];
        data[at + 1] = bar[1];
        data[at + 2] = bar[2];
      }
    }
  }
  return PNG.sync.write(png, { colorType: 2 });
}

/** Peaks as stored: a compact comma-separated list. */
export const encodePeaks = (peaks: readonly number[]): string => peaks.join(',');

export function decodePeaks(text: string): number[] {
  return text
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n >= 0 && n <= 255);
}
