import { afterEach, describe, expect, it } from 'vitest';
import { createDownloader, DownloadError } from '../../src/generation/download.js';
import { looksLikeMp3 } from '../../src/generation/mp3.js';
import { FakeAiml } from '../fakes/aiml.js';
import { makeMp3, makeNotAudio } from '../fakes/mp3.js';
import { captureLogs } from '../support/log.js';
import { rejectionOf } from '../support/errors.js';

let aiml: FakeAiml | undefined;
afterEach(async () => {
  await aiml?.close();
  aiml = undefined;
});

/** Makes one finished generation on the fake and returns its file's address. */
async function finishedTrack(script: Parameters<FakeAiml['script']>[0] = {}) {
  aiml = await FakeAiml.start();
  aiml.script(script);
  const response = await fetch(`${aiml.baseUrl}/v2/generate/audio`, {
    method: 'POST',
    headers: { authorization: `Bearer ${aiml.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'elevenlabs/eleven_music', prompt: 'x', music_length_ms: 10_000 }),
  });
  const { id } = (await response.json()) as { id: string };
  aiml.completeNow(id);
  const job = aiml.job(id)!;
  return { url: job.audioUrl!, audio: job.audio!, aiml };
}

function downloader(host: string, timeoutMs = 1_000) {
  return createDownloader({
    logger: captureLogs().logger,
    timeoutMs,
    plainHttpHosts: [host],
    retries: 1,
    minRetryDelayMs: 10,
  });
}

describe('download', () => {
  it('returns the exact bytes of an MP3 under the cap', async () => {
    const { url, audio } = await finishedTrack();
    const result = await downloader(new URL(url).host)(url, 10 * 1024 * 1024);
    expect(result.kind === 'file' && result.data.equals(audio)).toBe(true);
  });

  it('stops at the declared size when it is over the cap', async () => {
    const { url, audio } = await finishedTrack();
    expect(await downloader(new URL(url).host)(url, audio.length - 1)).toEqual({
      kind: 'too-large',
      sizeBytes: audio.length,
    });
  });

  it('stops reading a stream without a length once it passes the cap', async () => {
    const { url, audio } = await finishedTrack({ cdn: { omitContentLength: true } });
    expect(await downloader(new URL(url).host)(url, audio.length - 1)).toEqual({
      kind: 'too-large',
      sizeBytes: undefined,
    });
  });

  it('refuses plain http from any host but the provider’s, before connecting', async () => {
    const { url, aiml } = await finishedTrack();
    const error = await rejectionOf(downloader('example.com')(url, 1e7), DownloadError);
    expect(error.reason).toBe('not-allowed');
    expect(aiml.requests.filter((r) => r.route === 'cdn')).toHaveLength(0);
  });

  it('reports a 404 without retrying', async () => {
    const { url, aiml } = await finishedTrack({ cdn: { status: 404 } });
    expect((await rejectionOf(downloader(new URL(url).host)(url, 1e7), DownloadError)).reason).toBe(
      'not-found',
    );
    expect(aiml.requests.filter((r) => r.route === 'cdn')).toHaveLength(1);
  });

  it('refuses a body that is not an MP3', async () => {
    const { url } = await finishedTrack({ audio: makeNotAudio(2048) });
    const error = await rejectionOf(downloader(new URL(url).host)(url, 1e7), DownloadError);
    expect(error.reason).toBe('not-audio');
    expect(error.userMessage).toBe(
      'The track was made, but the file the music service returned is not an MP3.',
    );
  });

  it('times out a stalled download and retries it once', async () => {
    const { url, aiml } = await finishedTrack({ cdn: { stallMs: 5_000 } });
    expect((await rejectionOf(downloader(new URL(url).host, 300)(url, 1e7), DownloadError)).reason).toBe(
      'timeout',
    );
    expect(aiml.requests.filter((r) => r.route === 'cdn')).toHaveLength(2);
  });
});

describe('looksLikeMp3', () => {
  it('accepts MP3 with and without an ID3 tag, and refuses other bytes', () => {
    expect(looksLikeMp3(makeMp3({ seconds: 1 }))).toBe(true);
    expect(looksLikeMp3(makeMp3({ seconds: 1, id3: false }))).toBe(true);
    expect(looksLikeMp3(makeNotAudio(512))).toBe(false);
    expect(looksLikeMp3(Buffer.from('RIFF\0\0\0\0WAVEfmt '))).toBe(false);
    expect(looksLikeMp3(Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x0aXXXXXXXXXXnotaframe'))).toBe(false);
    expect(looksLikeMp3(new Uint8Array())).toBe(false);
  });
});
