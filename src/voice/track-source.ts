import { Readable } from 'node:stream';
import { createAudioResource, StreamType, type AudioResource } from '@discordjs/voice';
import { Routes, type APIMessage, type REST } from 'discord.js';
import { mp3ToOpus } from '../audio/opus-stream.js';
import type { Logger } from '../log.js';
import type { TrackRecord } from '../domain/track.js';

/** Where a delivered track's mp3 can be read from now. */
type TrackAudio = { kind: 'found'; url: string } | { kind: 'missing'; reason: string };

/**
 * Finds a track's audio from its message, read fresh: Discord signs attachment links for about a
 * day and hands out new ones with each read, so an old track plays as well as a new one. A track
 * too large to upload carries the provider's link in its Download field instead.
 */
async function findTrackAudio(rest: REST, track: TrackRecord): Promise<TrackAudio> {
  if (track.deletedAt !== null) return { kind: 'missing', reason: 'its message was deleted' };
  if (track.replyMessageId === null) return { kind: 'missing', reason: 'it has no message' };
  const message = (await rest.get(
    Routes.channelMessage(track.channelId, track.replyMessageId),
  )) as APIMessage;
  const attachment = message.attachments.find(
    (a) => a.content_type?.startsWith('audio/') === true || a.filename.toLowerCase().endsWith('.mp3'),
  );
  if (attachment) return { kind: 'found', url: attachment.url };
  for (const embed of message.embeds) {
    for (const field of embed.fields ?? []) {
      const link = /https?:\/\/\S+/.exec(field.value)?.[0];
      if (field.name === 'Download' && link) return { kind: 'found', url: link };
    }
  }
  return { kind: 'missing', reason: 'its message holds no audio' };
}

/** How long the file's host may take to start answering; a stall after that is the player's to notice. */
const HEADERS_TIMEOUT_MS = 15_000;

/** The mp3's bytes as they arrive; nothing is buffered beyond what the stream itself holds. */
async function openAudio(url: string, abort: AbortController): Promise<AsyncIterable<Uint8Array>> {
  const timer = setTimeout(
    () => abort.abort(new Error('the audio host did not answer in time')),
    HEADERS_TIMEOUT_MS,
  );
  try {
    const response = await fetch(url, { signal: abort.signal });
    if (!response.ok || !response.body) throw new Error(`audio fetch answered ${response.status}`);
    const bytes = Readable.fromWeb(response.body);
    // Aborting a track opened ahead, before anything reads it, errors a stream with no reader yet;
    // without a listener that would be an uncaught exception. A reader still gets the error.
    bytes.on('error', () => undefined);
    return bytes;
  } finally {
    clearTimeout(timer);
  }
}

/** A track ready for the player, and how to cut its download short (skip, stop). */
export type OpenedTrack =
  { kind: 'ready'; resource: AudioResource; abort: AbortController } | { kind: 'missing'; reason: string };

/** Finds a track's audio and starts streaming it as Opus packets, pulled by the player 20 ms at a time. */
export async function openTrack(rest: REST, track: TrackRecord, log: Logger): Promise<OpenedTrack> {
  const audio = await findTrackAudio(rest, track);
  if (audio.kind === 'missing') return audio;
  const abort = new AbortController();
  const bytes = await openAudio(audio.url, abort);
  // One second of Opus read ahead (a few kilobytes) rides over a moment of CPU contention.
  const packets = Readable.from(mp3ToOpus(bytes), { objectMode: true, highWaterMark: 50 });
  packets.on('error', (error) => {
    if (!abort.signal.aborted) log.warn({ err: error }, 'track stream failed');
  });
  return { kind: 'ready', resource: createAudioResource(packets, { inputType: StreamType.Opus }), abort };
}
