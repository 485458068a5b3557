import { PNG } from 'pngjs';
import { createMp3Decoder } from './decode.js';
import { layer3Frames, type Mp3Frames } from './mp3-frames.js';

/** How many columns a waveform has: enough for a crisp picture on a phone and in an embed. */
export const WAVEFORM_BARS = 160;

/**
 * The loudness outline of an mp3: the peak level of each of `bars` equal slices of the audio, as
 * whole numbers from 0 to 255. Small enough to keep beside the track and draw again at any size.
 * Returns undefined when the file holds no decodable audio.
 */
export async function waveformPeaks(mp3: Uint8Array, bars = WAVEFORM_BARS): Promise<number[] | undefined> {
  const frames = layer3Frames(mp3);
  // Every delivery draws one, so a long track is sampled rather than decoded whole: decoding costs
  // about a millisecond of CPU per second of audio, which held deliveries to a quarter of their pace.
  const levels =
    frames !== undefined && frames.offsets.length >= SAMPLED_FROM_FRAMES
      ? await sampledLevels(mp3, frames, bars)
      : await blockLevels(mp3);
  if (levels.length === 0) return undefined;
  const peaks = new Array<number>(bars).fill(0);
  levels.forEach((level, index) => {
    const bar = Math.min(bars - 1, Math.floor((index * bars) / levels.length));
    if (level > (peaks[bar] ?? 0)) peaks[bar] = level;
  });
  // Scaled to the loudest bar, so a quiet track still shows its shape.
  const loudest = Math.max(...peaks);
  return peaks.map((p) => (loudest === 0 ? 0 : Math.round((p / loudest) * 255)));
}

/** Samples per level kept while decoding a whole file (one MPEG-1 frame's worth). */
const BLOCK = 1152;

/**
 * The loudest sample of each block of BLOCK samples, across channels, decoding the whole file: a
 * few thousand numbers for a long track, binned into bars once the length is known. Nothing of
 * the PCM is kept.
 */
async function blockLevels(mp3: Uint8Array): Promise<number[]> {
  const decoder = await createMp3Decoder();
  const blocks: number[] = [];
  let current = 0;
  let filled = 0;
  try {
    // Decoded in slices so the event loop gets a turn between them: a five-minute track takes
    // about a second of CPU, which must not hold up the gateway's heartbeats in one block.
    const slice = 64 * 1024;
    for (let at = 0; at < mp3.length; at += slice) {
      if (at > 0) await yieldToEventLoop();
      const { channels } = decoder.decode(mp3.subarray(at, at + slice));
      const length = channels[0]?.length ?? 0;
      // A block's run of each channel at a time, in plain index loops: this runs for every sample
      // of every delivery, and a loop over channels per sample cost more than the decoding.
      for (let i = 0; i < length;) {
        const end = Math.min(length, i + BLOCK - filled);
        current = Math.max(current, peakOf(channels, i, end));
        filled += end - i;
        i = end;
        if (filled === BLOCK) {
          blocks.push(current);
          current = 0;
          filled = 0;
        }
      }
    }
  } finally {
    decoder.free();
  }
  if (filled > 0) blocks.push(current);
  return blocks;
}

/** Frames counted for each bar of a sampled waveform. */
const SAMPLED_FRAMES = 4;
/**
 * Bytes of frames decoded ahead of the counted ones. A frame may borrow up to 511 bytes of the
 * frames before it (the bit reservoir); after a jump those would be some other place's, so each
 * run starts early enough for every counted frame to find its borrowed bytes among those fed.
 */
const SAMPLED_LEAD_BYTES = 1024;
/** Files with fewer frames than this are decoded whole: sampling would not save enough. */
const SAMPLED_FROM_FRAMES = WAVEFORM_BARS * 16;

/**
 * One level per bar from a short run of frames in the middle of each bar's slice. The decoder
 * returns each frame's samples as soon as it has the frame (even the first frames after a jump,
 * which decode to noise), so the run's last samples are exactly the counted frames'.
 */
async function sampledLevels(mp3: Uint8Array, frames: Mp3Frames, bars: number): Promise<number[]> {
  const { offsets, end, samplesPerFrame } = frames;
  const at = (frame: number) => offsets[frame] ?? end;
  const decoder = await createMp3Decoder();
  const levels: number[] = [];
  try {
    for (let bar = 0; bar < bars; bar++) {
      if (bar > 0 && bar % 32 === 0) await yieldToEventLoop();
      // From the middle of the bar's slice, so the picture is not shifted by half a bar.
      const first = Math.floor(((bar + 0.5) * offsets.length) / bars);
      let counted = first + 1;
      while (counted < offsets.length && at(counted) - at(first) < SAMPLED_LEAD_BYTES) counted++;
      const last = Math.min(offsets.length, counted + SAMPLED_FRAMES);
      const { channels } = decoder.decode(mp3.subarray(at(first), at(last)));
      const length = channels[0]?.length ?? 0;
      levels.push(peakOf(channels, Math.max(0, length - (last - counted) * samplesPerFrame), length));
    }
  } finally {
    decoder.free();
  }
  return levels;
}

/** The largest absolute sample in [from, to) across channels. */
function peakOf(channels: readonly Float32Array[], from: number, to: number): number {
  let peak = 0;
  for (const channel of channels) {
    for (let i = from; i < to; i++) {
      const sample = channel[i] ?? 0;
      const level = sample < 0 ? -sample : sample;
      if (level > peak) peak = level;
    }
  }
  return peak;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

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
  // Each row of mirrored bars mostly repeats the one above, so the Up filter alone leaves little
  // for zlib, and its fastest level then does nearly as well as its slowest: a third of the time
  // (this runs on every delivery) for a 3.5 KiB picture instead of 2 KiB.
  return PNG.sync.write(png, { colorType: 2, filterType: 2, deflateLevel: 1 });
}

/** Peaks as stored: a compact comma-separated list. */
export const encodePeaks = (peaks: readonly number[]): string => peaks.join(',');

export function decodePeaks(text: string): number[] {
  return text
    .split(',')
    .map(Number)
    .filter((n) => Number.isInteger(n) && n >= 0 && n <= 255);
}
