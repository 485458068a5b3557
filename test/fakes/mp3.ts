/**
 * Real, decodable MP3 files for tests, built without an encoder: MPEG-1 Layer III, 44.1 kHz, mono,
 * constant bitrate. The first frame is a silent "Info" frame (the CBR form of the Xing header) so that
 * decoders report the duration from the frame count instead of guessing from the file size; every other
 * frame holds one granule-sized slice of a quiet 440 Hz tone, or silence.
 */

export interface Mp3Options {
  /** Duration of the audio; rounded to whole frames of 1152 samples (26.1 ms). */
  seconds: number;
  bitrateKbps?: 128 | 192 | 320;
  /** Prepend an ID3v2.4 tag holding a TIT2 title (default true). */
  id3?: boolean;
  title?: string;
  /** An audible tone rather than digital silence (default true). */
  tone?: boolean;
  /**
   * Which spectral line of the first subband carries the tone: an odd number from 1 to 35; line k
   * sounds at about (k + 0.5) × 38.3 Hz (`toneHz`). Default 11 (440 Hz). Tests that must tell
   * tracks apart by ear give each a different line.
   */
  toneLine?: number;
}

/** The frequency a tone on spectral line `line` sounds at: the centre of that MDCT bin. */
export function toneHz(line: number): number {
  return ((line + 0.5) * SAMPLE_RATE) / 2 / 576;
}

export const SAMPLE_RATE = 44_100;
export const SAMPLES_PER_FRAME = 1152;

const bitrateIndex = { 128: 0b1001, 192: 0b1011, 320: 0b1110 } as const;
const headerBytes = 4;
// Mono MPEG-1 side information; stereo would need 32 bytes and twice the granule fields.
const sideInfoBytes = 17;
const defaultTitle = 'Tracksmith test tone';

/** Number of audio frames (the Info frame excluded) that `seconds` rounds to. */
export function mp3FrameCount(seconds: number): number {
  return Math.max(1, Math.round((seconds * SAMPLE_RATE) / SAMPLES_PER_FRAME));
}

/**
 * Byte length of every frame of a stream at this bitrate. The exact CBR frame size is fractional
 * (417.96 bytes at 128 kbps); padding the frames where the running total crosses a whole byte keeps the
 * average exact, as encoders do.
 */
export function mp3FrameLengths(frames: number, bitrateKbps: 128 | 192 | 320): number[] {
  const bytesTimesRate = 144_000 * bitrateKbps; // per frame, scaled by SAMPLE_RATE
  const lengths: number[] = [];
  for (let i = 0; i < frames; i++) {
    lengths.push(
      Math.floor(((i + 1) * bytesTimesRate) / SAMPLE_RATE) - Math.floor((i * bytesTimesRate) / SAMPLE_RATE),
    );
  }
  return lengths;
}

export function makeMp3(options: Mp3Options): Buffer {
  const {
    seconds,
    bitrateKbps = 128,
    id3 = true,
    title = defaultTitle,
    tone = true,
    toneLine = 11,
  } = options;
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new RangeError(`seconds must be positive, got ${seconds}`);
  if (!(bitrateKbps in bitrateIndex)) throw new RangeError(`unsupported bitrate ${String(bitrateKbps)} kbps`);
  if (!Number.isInteger(toneLine) || toneLine < 1 || toneLine > 35 || toneLine % 2 === 0)
    throw new RangeError(`toneLine must be an odd number from 1 to 35, got ${toneLine}`);

  const audioFrames = mp3FrameCount(seconds);
  const lengths = mp3FrameLengths(audioFrames + 1, bitrateKbps);
  const streamBytes = lengths.reduce((sum, n) => sum + n, 0);
  const tag = id3 ? id3v2Tag(title) : Buffer.alloc(0);
  const out = Buffer.alloc(tag.length + streamBytes);
  tag.copy(out, 0);

  const baseLength = Math.floor((144_000 * bitrateKbps) / SAMPLE_RATE);
  // Only four distinct audio frames exist (padded or not, tone phase + or -), so each is built once and
  // copied: a 300 s file then takes a few milliseconds.
  const templates = new Map<string, Buffer>();
  const audioFrame = (padded: boolean, negative: boolean) => {
    const key = `${String(padded)}${String(negative)}`;
    let frame = templates.get(key);
    if (!frame) {
      frame = Buffer.alloc(baseLength + (padded ? 1 : 0));
      writeHeader(frame, bitrateKbps, padded);
      if (tone) writeToneGranules(frame, negative, toneLine);
      templates.set(key, frame);
    }
    return frame;
  };

  let offset = tag.length;
  const infoLength = lengths[0] ?? baseLength;
  const info = out.subarray(offset, offset + infoLength);
  writeHeader(info, bitrateKbps, infoLength > baseLength);
  writeInfoTag(info, audioFrames, streamBytes);
  offset += infoLength;

  for (let i = 1; i < lengths.length; i++) {
    const length = lengths[i] ?? baseLength;
    // The tone's MDCT coefficient follows +,+,-,- over granules (two granules per frame), which is the
    // phase a steady sine at that bin's centre frequency has from one granule to the next.
    audioFrame(length > baseLength, (i - 1) % 2 === 1).copy(out, offset);
    offset += length;
  }
  return out;
}

/** A payload that is clearly not audio: the HTML error page a misbehaving CDN might serve, padded. */
export function makeNotAudio(bytes: number): Buffer {
  const head =
    '<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head>\n' +
    '<body><h1>Not Found</h1><p>The requested file is not available.</p>\n';
  const tail = '</body></html>\n';
  const fill = Math.max(0, bytes - head.length - tail.length);
  return Buffer.from(head + ' '.repeat(fill) + tail, 'utf8').subarray(0, Math.max(0, bytes));
}

function writeHeader(frame: Buffer, bitrateKbps: 128 | 192 | 320, padded: boolean): void {
  frame[0] = 0xff;
  // Sync, MPEG-1, Layer III, no CRC.
  frame[1] = 0xfb;
  // Bitrate, 44.1 kHz (index 0), padding bit, private bit clear.
  frame[2] = (bitrateIndex[bitrateKbps] << 4) | (padded ? 0b10 : 0);
  // Mono, not copyrighted, original, no emphasis.
  frame[3] = 0b1100_0100;
}

/**
 * Side information and main data for two granules, each with a single quantised spectral line. Line 11
 * of subband 0 sits at (11 + 0.5) * 22050 / 576 ≈ 440 Hz; region 0 covers lines up to 35. Everything is self-contained in the frame
 * (main_data_begin = 0, no scale factors), so a decoder may start at any frame.
 */
function writeToneGranules(frame: Buffer, negative: boolean, line: number): void {
  const bigValuePairs = (line + 1) / 2; // lines 0..line, the last pair being (0, 1)
  const granuleBits = bigValuePairs - 1 + 3 + 1; // five '1' codes for (0,0), '001' for (0,1), a sign bit
  // Each step of 4 doubles the amplitude; 198 puts the tone near -21 dBFS, clearly audible, far from clipping.
  const globalGain = 198;

  const side = new BitWriter(frame, headerBytes);
  side.write(0, 9); // main_data_begin: no bit reservoir
  side.write(0, 5); // private bits
  side.write(0, 4); // scfsi
  for (let granule = 0; granule < 2; granule++) {
    side.write(granuleBits, 12); // part2_3_length: no scale factor bits, then the Huffman bits
    side.write(bigValuePairs, 9);
    side.write(globalGain, 8);
    side.write(0, 4); // scalefac_compress 0: slen1 = slen2 = 0
    side.write(0, 1); // long blocks only
    for (let region = 0; region < 3; region++) side.write(1, 5); // Huffman table 1 everywhere
    side.write(7, 4); // region0_count: region 0 ends at line 36, past every big value
    side.write(7, 3); // region1_count: region 1 ends at line 162, inside the band table
    side.write(0, 1); // preflag
    side.write(0, 1); // scalefac_scale
    side.write(0, 1); // count1table_select (the count1 region is empty)
  }

  const main = new BitWriter(frame, headerBytes + sideInfoBytes);
  for (let granule = 0; granule < 2; granule++) {
    for (let pair = 0; pair < bigValuePairs - 1; pair++) main.write(0b1, 1); // (0, 0)
    main.write(0b001, 3); // (0, 1)
    main.write(negative ? 1 : 0, 1);
  }
}

/** The Info header (Xing layout for CBR): frame count, byte count and a linear seek table. */
function writeInfoTag(frame: Buffer, audioFrames: number, streamBytes: number): void {
  let at = headerBytes + sideInfoBytes;
  at += frame.write('Info', at, 'latin1');
  at = frame.writeUInt32BE(0b1111, at); // frames, bytes, TOC and quality fields present
  at = frame.writeUInt32BE(audioFrames, at);
  at = frame.writeUInt32BE(streamBytes, at);
  for (let i = 0; i < 100; i++) frame[at + i] = Math.floor((i * 256) / 100);
  at += 100;
  frame.writeUInt32BE(0, at); // quality
}

function id3v2Tag(title: string): Buffer {
  const text = Buffer.concat([Buffer.from([0x03]), Buffer.from(title, 'utf8')]); // 0x03: UTF-8
  const frameHeader = Buffer.alloc(10);
  frameHeader.write('TIT2', 0, 'latin1');
  frameHeader.writeUInt32BE(syncsafe(text.length), 4); // ID3v2.4 frame sizes are syncsafe too
  const body = Buffer.concat([frameHeader, text]);
  const header = Buffer.from([0x49, 0x44, 0x33, 0x04, 0x00, 0x00, 0, 0, 0, 0]);
  header.writeUInt32BE(syncsafe(body.length), 6);
  return Buffer.concat([header, body]);
}

function syncsafe(n: number): number {
  if (n >= 1 << 28) throw new RangeError('ID3 tag too large');
  return (n & 0x7f) | ((n & 0x3f80) << 1) | ((n & 0x1fc000) << 2) | ((n & 0xfe00000) << 3);
}

class BitWriter {
  private bit = 0;

  constructor(
    private readonly target: Buffer,
    private readonly start: number,
  ) {}

  write(value: number, width: number): void {
    for (let i = width - 1; i >= 0; i--) {
      if ((value >> i) & 1) {
        const index = this.start + (this.bit >> 3);
        this.target[index] = (this.target[index] ?? 0) | (0x80 >> (this.bit & 7));
      }
      this.bit++;
    }
  }
}
