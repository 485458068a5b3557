/**
 * Where each MPEG Layer III frame of an mp3 starts, read from the frame headers alone (nothing is
 * decoded), so a reader can pick frames out of a long file. Written here because the packages
 * that parse mp3 frames either decode as well or read whole tag sets; this needs thirty lines.
 */
export interface Mp3Frames {
  /** Byte offset of each frame, in order. */
  offsets: number[];
  /** Where the last frame ends. */
  end: number;
  /** Samples per channel in one frame: 1152 for MPEG-1, 576 for MPEG-2 and 2.5. */
  samplesPerFrame: number;
}

// Layer III bitrates in kbit/s by the header's index (0 = free format, which this does not read).
const MPEG1_KBPS = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MPEG2_KBPS = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
// Sample rates by version (the header's 2-bit field: 0 = MPEG-2.5, 2 = MPEG-2, 3 = MPEG-1).
const RATES: Record<number, readonly number[]> = {
  0: [11_025, 12_000, 8_000],
  2: [22_050, 24_000, 16_000],
  3: [44_100, 48_000, 32_000],
};

/** The length of the Layer III frame whose header starts at `at`, or 0 when none starts there. */
function frameLength(data: Uint8Array, at: number): number {
  const b1 = data[at + 1] ?? 0;
  const b2 = data[at + 2] ?? 0;
  if (data[at] !== 0xff || (b1 & 0xe0) !== 0xe0 || ((b1 >> 1) & 3) !== 1) return 0;
  const version = (b1 >> 3) & 3;
  const mpeg1 = version === 3;
  const kbps = (mpeg1 ? MPEG1_KBPS : MPEG2_KBPS)[b2 >> 4] ?? 0;
  const rate = RATES[version]?.[(b2 >> 2) & 3] ?? 0;
  if (kbps === 0 || rate === 0) return 0;
  return Math.floor(((mpeg1 ? 144_000 : 72_000) * kbps) / rate) + ((b2 >> 1) & 1);
}

/** Whether a valid Layer III frame header starts at `at` (sync, version, layer, bitrate, rate). */
export function isLayer3FrameAt(data: Uint8Array, at: number): boolean {
  return frameLength(data, at) > 0;
}

/** Where the audio begins: past an ID3v2 tag at the start, if there is one, else 0. */
export function audioStart(data: Uint8Array): number {
  if (data[0] !== 0x49 || data[1] !== 0x44 || data[2] !== 0x33) return 0;
  // Four 7-bit bytes of size, then 10 bytes of header and 10 more when a footer is flagged.
  const size =
    (((data[6] ?? 0) << 21) | ((data[7] ?? 0) << 14) | ((data[8] ?? 0) << 7) | (data[9] ?? 0)) >>> 0;
  return 10 + size + (((data[5] ?? 0) & 0x10) === 0 ? 0 : 10);
}

/** The frames of an MPEG Layer III file, or undefined when it holds none (or is another layer). */
export function layer3Frames(data: Uint8Array): Mp3Frames | undefined {
  const offsets: number[] = [];
  let samplesPerFrame = 0;
  let at = audioStart(data);
  let end = at;
  while (at + 4 <= data.length) {
    const length = frameLength(data, at);
    // A header only counts when the frame fits: junk between frames is skipped byte by byte.
    if (length < 4 || at + length > data.length) {
      at++;
      continue;
    }
    if (offsets.length === 0) samplesPerFrame = (((data[at + 1] ?? 0) >> 3) & 3) === 3 ? 1152 : 576;
    offsets.push(at);
    at += length;
    end = at;
  }
  return offsets.length === 0 ? undefined : { offsets, end, samplesPerFrame };
}
