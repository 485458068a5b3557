import { parseBuffer } from 'music-metadata';

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
