import { parseBuffer } from 'music-metadata';
import { audioStart, isLayer3FrameAt } from '../audio/mp3-frames.js';

/**
 * Recognises an MP3 stream by its first bytes: an ID3v2 tag, or an MPEG audio frame header
 * (11 sync bits, a valid version, layer III, a bitrate index that is neither free nor bad, and a
 * real sample rate). Enough to refuse an HTML error page or another format served as audio.
 */
export function looksLikeMp3(bytes: Uint8Array): boolean {
  if (bytes.length >= 10 && bytes[0] === 0x49 && bytes[1] === 0x44 && bytes[2] === 0x33) {
    // ID3v2: version byte is 2..4 and the size is four 7-bit bytes.
    const version = bytes[3] ?? 0;
    if (version < 2 || version > 4 || !bytes.subarray(6, 10).every((b) => b < 0x80)) return false;
    const tagEnd = audioStart(bytes);
    // When the first frame is within reach, it must be a real frame too.
    return bytes.length < tagEnd + 4 ? true : isLayer3FrameAt(bytes, tagEnd);
  }
  return isLayer3FrameAt(bytes, 0);
}

/**
 * The playing time of an mp3, read from the file itself (a Xing/Info header, or by walking every
 * frame when there is none). Undefined when the file cannot be read: the length is a detail of
 * the message, never a reason to hold back the track.
 */
export async function audioDurationSeconds(data: Uint8Array): Promise<number | undefined> {
  try {
    const metadata = await parseBuffer(
      data,
      { mimeType: 'audio/mpeg', size: data.length },
      { duration: true },
    );
    const seconds = metadata.format.duration;
    return seconds !== undefined && Number.isFinite(seconds) && seconds > 0 ? seconds : undefined;
  } catch {
    return undefined;
  }
}
