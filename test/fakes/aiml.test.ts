import { afterEach, describe, expect, it } from 'vitest';
import { FakeAiml, type FakeAimlOptions } from './aiml.js';
import {
  makeMp3,
  makeNotAudio,
  mp3FrameCount,
  mp3FrameLengths,
  SAMPLE_RATE,
  SAMPLES_PER_FRAME,
} from './mp3.js';

const model = 'elevenlabs/eleven_music';

let fakes: FakeAiml[] = [];
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
});

/** A fake whose clock moves only through `clock.advance`, so statuses are checked at exact instants. */
async function start(options: FakeAimlOptions = {}) {
  const clock = {
    t: 1_700_000_000_000,
    advance(ms: number) {
      this.t += ms;
    },
  };
  const fake = await FakeAiml.start({ now: () => clock.t, ...options });
  fakes.push(fake);
  return { fake, clock };
}

type Json = Record<string, unknown>;

async function create(fake: FakeAiml, body: unknown, key = fake.apiKey) {
  const response = await fetch(`${fake.baseUrl}/v2/generate/audio`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Json };
}

async function submit(fake: FakeAiml, prompt = 'warm lo-fi piano', musicLengthMs = 12_000): Promise<string> {
  const { status, body } = await create(fake, { model, prompt, music_length_ms: musicLengthMs });
  expect(status).toBe(200);
  return body.id as string;
}

async function poll(fake: FakeAiml, id: string, key = fake.apiKey) {
  const response = await fetch(`${fake.baseUrl}/v2/generate/audio?generation_id=${encodeURIComponent(id)}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  return { status: response.status, body: (await response.json()) as Json };
}

describe('FakeAiml', () => {
  it('creates a job, reports it queued, generating, then completed with a CDN URL serving its audio', async () => {
    const { fake, clock } = await start({ generationMs: 300, queuedMs: 50 });
    const created = await create(fake, { model, prompt: 'warm lo-fi piano', music_length_ms: 12_000 });
    expect(created.status).toBe(200);
    expect(Object.keys(created.body).sort()).toEqual(['id', 'status']);
    expect(created.body.status).toBe('queued');
    const id = created.body.id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}:elevenlabs\/eleven_music$/);

    expect((await poll(fake, id)).body).toEqual({
      id,
      status: 'queued',
      audio_file: null,
      error: null,
      meta: null,
    });
    clock.advance(50);
    expect((await poll(fake, id)).body.status).toBe('generating');
    clock.advance(250);
    const done = await poll(fake, id);
    expect(done.status).toBe(200);
    const uuid = id.split(':')[0]!;
    expect(done.body).toEqual({
      id,
      status: 'completed',
      audio_file: { url: `${fake.baseUrl}/cdn/generations/${uuid}.mp3` },
      error: null,
      meta: { usage: { credits_used: 120 } },
    });

    const job = fake.job(id)!;
    expect(job).toMatchObject({ status: 'completed', prompt: 'warm lo-fi piano', musicLengthMs: 12_000 });
    expect(job.completedAt).toBe(job.createdAt + 300);
    expect(fake.jobs.get(id)).toBe(job);

    const download = await fetch(job.audioUrl!);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('audio/mpeg');
    expect(download.headers.get('content-length')).toBe(String(job.audio!.length));
    expect(Buffer.from(await download.arrayBuffer()).equals(job.audio!)).toBe(true);
    expect(job.audio!.equals(makeMp3({ seconds: 12 }))).toBe(true);

    expect(fake.requests.map((r) => [r.route, r.status])).toEqual([
      ['create', 200],
      ['poll', 200],
      ['poll', 200],
      ['poll', 200],
      ['cdn', 200],
    ]);
    expect(fake.requests[0]!.body).toEqual({ model, prompt: 'warm lo-fi piano', music_length_ms: 12_000 });
    expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${fake.apiKey}`);
  });

  it('moves on with real time when no clock is given', async () => {
    const fake = await FakeAiml.start({ generationMs: 80, queuedMs: 10 });
    fakes.push(fake);
    // The submission's own answer is taken at the instant the job is made, so it is 'queued'
    // however slow the machine; the polls then see it finish without anyone moving a clock.
    const { body: submitted } = await create(fake, {
      model,
      prompt: 'warm lo-fi piano',
      music_length_ms: 12_000,
    });
    expect(submitted.status).toBe('queued');
    const id = submitted.id as string;
    const seen: unknown[] = ['queued'];
    for (;;) {
      const { body } = await poll(fake, id);
      if (seen.at(-1) !== body.status) seen.push(body.status);
      if (body.status === 'completed') break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(seen.at(-1)).toBe('completed');
  });

  it('takes the generation time from a function of the job, and defaults the length to 10 s', async () => {
    const { fake, clock } = await start({ generationMs: (job) => job.musicLengthMs / 10 });
    const { body } = await create(fake, { model, prompt: 'drums' });
    const id = body.id as string;
    expect(fake.job(id)?.musicLengthMs).toBe(10_000);
    clock.advance(999);
    expect(fake.job(id)?.status).toBe('generating');
    clock.advance(1);
    expect(fake.job(id)?.status).toBe('completed');
  });

  it.each([
    ['no key', undefined],
    ['a wrong key', 'Bearer not-the-key'],
    ['the key without the Bearer scheme', 'test-aiml-key'],
  ])('answers 401 to %s', async (_case, authorization) => {
    const { fake } = await start();
    const id = await submit(fake);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (authorization) headers.authorization = authorization;
    const url = `${fake.baseUrl}/v2/generate/audio`;
    for (const response of [
      await fetch(url, { method: 'POST', headers, body: JSON.stringify({ model, prompt: 'x' }) }),
      await fetch(`${url}?generation_id=${encodeURIComponent(id)}`, { headers }),
    ]) {
      expect(response.status).toBe(401);
      const body = (await response.json()) as Json;
      expect(Object.keys(body).sort()).toEqual(['message', 'path', 'requestId', 'statusCode', 'timestamp']);
      expect(body).toMatchObject({ statusCode: 401, message: 'Unauthorized', path: '/v2/generate/audio' });
      expect(body.requestId).toBeTypeOf('string');
      expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    expect(fake.jobs.size).toBe(1);
  });

  it.each([
    ['a body that is not JSON', '{"model": ', /not valid JSON/],
    ['a JSON array', [], /JSON object/],
    ['a missing model', { prompt: 'x' }, /^model must be/],
    ['another model', { model: 'elevenlabs/eleven_music_v2', prompt: 'x' }, /^model must be/],
    ['a missing prompt', { model }, /^prompt is required/],
    ['an empty prompt', { model, prompt: '' }, /^prompt should not be empty/],
    ['a blank prompt', { model, prompt: '   ' }, /^prompt should not be empty/],
    ['a prompt that is not a string', { model, prompt: 42 }, /^prompt must be a string/],
    ['a prompt over 2000 characters', { model, prompt: 'x'.repeat(2001) }, /2000 characters/],
    ['a length below 10 s', { model, prompt: 'x', music_length_ms: 9_999 }, /^music_length_ms must/],
    ['a length above 300 s', { model, prompt: 'x', music_length_ms: 300_001 }, /^music_length_ms must/],
    ['a fractional length', { model, prompt: 'x', music_length_ms: 12_000.5 }, /^music_length_ms must/],
    ['a length sent as a string', { model, prompt: 'x', music_length_ms: '12000' }, /^music_length_ms must/],
    ['a null length', { model, prompt: 'x', music_length_ms: null }, /^music_length_ms must/],
  ])('answers 400 to %s', async (_case, body, message) => {
    const { fake } = await start();
    const answer = await create(fake, body);
    expect(answer.status).toBe(400);
    expect(answer.body.statusCode).toBe(400);
    expect(answer.body.message).toMatch(message);
    expect(fake.jobs.size).toBe(0);
  });

  it('accepts the documented limits exactly', async () => {
    const { fake } = await start();
    for (const body of [
      { model, prompt: 'x'.repeat(2000), music_length_ms: 10_000 },
      { model, prompt: '🎹'.repeat(2000), music_length_ms: 300_000 },
    ]) {
      expect((await create(fake, body)).status).toBe(200);
    }
  });

  it('refuses a non-JSON content type', async () => {
    const { fake } = await start();
    const response = await fetch(`${fake.baseUrl}/v2/generate/audio`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fake.apiKey}`, 'content-type': 'text/plain' },
      body: JSON.stringify({ model, prompt: 'x' }),
    });
    expect(response.status).toBe(400);
  });

  it('refuses a prompt naming a real artist, whatever its case, and says why', async () => {
    const { fake } = await start();
    const answer = await create(fake, { model, prompt: 'a ballad like TAYLOR SWIFT would sing' });
    expect(answer.status).toBe(400);
    expect(answer.body.message).toBe(
      'Prompt refused: it references a real artist (Taylor Swift). Describe the style instead.',
    );
    expect(fake.jobs.size).toBe(0);

    const custom = (await start({ refusedTerms: ['Daft Punk'] })).fake;
    expect((await create(custom, { model, prompt: 'Taylor Swift vibes' })).status).toBe(200);
    expect((await create(custom, { model, prompt: 'daft punk vibes' })).body.message).toContain('Daft Punk');
  });

  it('charges credits at creation and answers 403 when the account cannot pay', async () => {
    const { fake } = await start({ credits: 250, creditsPerSecond: 10 });
    await submit(fake, 'first', 20_000);
    expect(fake.credits).toBe(50);
    const refused = await create(fake, { model, prompt: 'second', music_length_ms: 10_000 });
    expect(refused.status).toBe(403);
    expect(refused.body.statusCode).toBe(403);
    expect(refused.body.message).toMatch(/^Insufficient credits/);
    expect(fake.jobs.size).toBe(1);
    expect(fake.credits).toBe(50);

    fake.setCredits(100);
    const id = await submit(fake, 'third', 10_000);
    expect(fake.credits).toBe(0);
    expect(fake.job(id)?.creditsUsed).toBe(100);
  });

  it('answers the next requests with a scripted failure, headers included, then normally', async () => {
    const { fake } = await start();
    fake.failNext('create', {
      status: 429,
      body: { statusCode: 429, message: 'Too Many Requests' },
      headers: { 'retry-after': '1' },
      times: 2,
    });
    for (let i = 0; i < 2; i++) {
      const answer = await create(fake, { model, prompt: 'x' });
      expect(answer.status).toBe(429);
      expect(answer.headers.get('retry-after')).toBe('1');
      expect(answer.body).toEqual({ statusCode: 429, message: 'Too Many Requests' });
    }
    expect(fake.jobs.size).toBe(0);
    await submit(fake);
    expect(fake.requests.map((r) => r.status)).toEqual([429, 429, 200]);
    expect(fake.requests[0]!.body).toEqual({ model, prompt: 'x' });
  });

  it('sends a raw error body as it is, and a default JSON error when no body is given', async () => {
    const { fake } = await start();
    const id = await submit(fake);
    fake.failNext('poll', { status: 502, rawBody: '<html>Bad Gateway</html>' });
    fake.failNext('poll', { status: 500 });
    const url = `${fake.baseUrl}/v2/generate/audio?generation_id=${encodeURIComponent(id)}`;
    const headers = { authorization: `Bearer ${fake.apiKey}` };
    const first = await fetch(url, { headers });
    expect(first.status).toBe(502);
    expect(await first.text()).toBe('<html>Bad Gateway</html>');
    const second = await fetch(url, { headers });
    expect(second.status).toBe(500);
    expect(await second.json()).toMatchObject({ statusCode: 500, message: 'Internal Server Error' });
    expect((await fetch(url, { headers })).status).toBe(200);
  });

  it('drops the connection without an answer for a network fault', async () => {
    const { fake } = await start();
    fake.failNext('create', { network: true });
    await expect(create(fake, { model, prompt: 'x' })).rejects.toThrow();
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]).toMatchObject({ route: 'create', status: 0 });
    expect(fake.jobs.size).toBe(0);
    await submit(fake);
  });

  it('delays an answer without changing it', async () => {
    const { fake } = await start();
    fake.failNext('create', { delayMs: 150 });
    const started = performance.now();
    await submit(fake);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(fake.jobs.size).toBe(1);
  });

  it('reports a scripted generation error with its message and no file', async () => {
    const { fake, clock } = await start({ generationMs: 300 });
    fake.script({ outcome: 'error', errorMessage: 'The model could not follow the requested structure.' });
    const failed = await submit(fake);
    const normal = await submit(fake);
    clock.advance(300);
    const { body } = await poll(fake, failed);
    expect(body).toEqual({
      id: failed,
      status: 'error',
      audio_file: null,
      error: { name: 'GenerationError', message: 'The model could not follow the requested structure.' },
      meta: { usage: { credits_used: 120 } },
    });
    expect(fake.job(failed)?.audio).toBeUndefined();
    const uuid = failed.split(':')[0]!;
    expect((await fetch(`${fake.baseUrl}/cdn/generations/${uuid}.mp3`)).status).toBe(404);
    expect((await poll(fake, normal)).body.status).toBe('completed');
  });

  it('keeps a stuck job generating until a test completes it', async () => {
    const { fake, clock } = await start();
    fake.script({ outcome: 'stuck' });
    const id = await submit(fake);
    clock.advance(60 * 60 * 1000);
    expect((await poll(fake, id)).body).toMatchObject({ status: 'generating', audio_file: null, meta: null });
    fake.completeNow(id);
    const { body } = await poll(fake, id);
    expect(body.status).toBe('completed');
    expect(fake.job(id)?.completedAt).toBe(clock.t);
    expect(() => fake.completeNow('nope')).toThrow();
  });

  it('reports a scripted sequence of statuses, unknown ones included, before the final one', async () => {
    const { fake, clock } = await start();
    fake.script({ statuses: ['waiting', 'queued', 'mystery'], generationMs: 300 });
    const created = await create(fake, { model, prompt: 'x' });
    expect(created.body.status).toBe('waiting');
    const id = created.body.id as string;
    const seen: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      seen.push((await poll(fake, id)).body.status);
      clock.advance(100);
    }
    expect(seen).toEqual(['waiting', 'queued', 'mystery', 'completed']);
  });

  it('receives a percent-encoded generation ID intact, and explains unknown or missing IDs', async () => {
    const { fake } = await start();
    const id = await submit(fake);
    await poll(fake, id);
    const record = fake.requests.at(-1)!;
    expect(record.rawQuery).toBe(`generation_id=${id.replace(':', '%3A').replace('/', '%2F')}`);
    expect(record.query.get('generation_id')).toBe(id);

    const unknown = await poll(fake, `${id.slice(0, -1)}x`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ statusCode: 404, message: 'Generation not found' });
    const missing = await fetch(`${fake.baseUrl}/v2/generate/audio`, {
      headers: { authorization: `Bearer ${fake.apiKey}` },
    });
    expect(missing.status).toBe(400);
  });

  it('answers unknown routes and files with 404', async () => {
    const { fake } = await start();
    const other = await fetch(`${fake.baseUrl}/v1/models`);
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ statusCode: 404, path: '/v1/models' });
    const file = await fetch(`${fake.baseUrl}/cdn/generations/00000000-0000-0000-0000-000000000000.mp3`);
    expect(file.status).toBe(404);
    expect(fake.requests.map((r) => r.route)).toEqual(['other', 'cdn']);
  });

  it('serves the scripted audio, and follows the CDN script', async () => {
    const { fake, clock } = await start();
    const custom = makeMp3({ seconds: 3, tone: false });
    fake.script({ audio: custom, cdn: { omitContentLength: true, contentType: 'binary/octet-stream' } });
    fake.script({ cdn: { status: 404 } });
    const chunked = await submit(fake);
    const gone = await submit(fake);
    clock.advance(1_000);

    const first = await fetch(fake.job(chunked)!.audioUrl!);
    expect(first.headers.get('content-length')).toBeNull();
    expect(first.headers.get('transfer-encoding')).toBe('chunked');
    expect(first.headers.get('content-type')).toBe('binary/octet-stream');
    expect(Buffer.from(await first.arrayBuffer()).equals(custom)).toBe(true);

    const second = await fetch(fake.job(gone)!.audioUrl!);
    expect(second.status).toBe(404);
    expect(await second.text()).toContain('NoSuchKey');
  });

  it('fails a download once on request, then serves it', async () => {
    const { fake, clock } = await start();
    const id = await submit(fake);
    clock.advance(1_000);
    fake.failNext('cdn', { status: 503 });
    const url = fake.job(id)!.audioUrl!;
    expect((await fetch(url)).status).toBe(503);
    expect((await fetch(url)).status).toBe(200);
  });

  it('delays and stalls downloads as scripted', async () => {
    const { fake, clock } = await start();
    fake.script({ cdn: { delayMs: 100, stallMs: 150 } });
    const id = await submit(fake);
    clock.advance(1_000);
    const started = performance.now();
    const response = await fetch(fake.job(id)!.audioUrl!);
    const headersAt = performance.now() - started;
    await response.arrayBuffer();
    const bodyAt = performance.now() - started;
    // Lower bounds only: timers never fire early, but a busy machine can hand this process the
    // headers late, together with the body, so the gap between the two proves nothing.
    expect(headersAt).toBeGreaterThanOrEqual(90);
    expect(bodyAt).toBeGreaterThanOrEqual(240);
  });

  it('closes at once even with a download stalled mid-response', async () => {
    const fake = await FakeAiml.start({ generationMs: 0 });
    fakes.push(fake);
    fake.script({ cdn: { stallMs: 60_000 } });
    const id = await submit(fake);
    const response = await fetch(fake.job(id)!.audioUrl!);
    expect(response.status).toBe(200);
    const body = response.arrayBuffer();
    // The stall outlasts the test's own time limit: a close that waited for it would never resolve here.
    await fake.close();
    await expect(body).rejects.toThrow();
  });
});

describe('makeMp3', () => {
  const frameStarts = (tagLength: number, bitrate: 128 | 192 | 320, frames: number) => {
    const starts: number[] = [];
    let offset = tagLength;
    for (const length of mp3FrameLengths(frames, bitrate)) {
      starts.push(offset);
      offset += length;
    }
    return { starts, end: offset };
  };

  it.each([128, 192, 320] as const)(
    'lays out whole CBR frames at %i kbps with exact average size',
    (bitrate) => {
      const seconds = 30;
      const mp3 = makeMp3({ seconds, bitrateKbps: bitrate, id3: false });
      const frames = mp3FrameCount(seconds) + 1; // the Info frame comes first
      const { starts, end } = frameStarts(0, bitrate, frames);
      expect(end).toBe(mp3.length);
      const baseLength = Math.floor((144_000 * bitrate) / SAMPLE_RATE);
      for (const [i, start] of starts.entries()) {
        expect(mp3[start]).toBe(0xff);
        expect(mp3[start + 1]).toBe(0xfb);
        const padded = (mp3[start + 2]! >> 1) & 1;
        const next = starts[i + 1] ?? end;
        expect(next - start).toBe(baseLength + padded);
      }
      const expected = (frames * SAMPLES_PER_FRAME * bitrate * 1000) / 8 / SAMPLE_RATE;
      expect(Math.abs(mp3.length - expected)).toBeLessThan(1);
      expect(Math.abs(mp3.length - (seconds * bitrate * 1000) / 8)).toBeLessThan(2 * baseLength);
    },
  );

  it('starts with an ID3v2.4 tag holding the title, and an Info frame giving the frame count', () => {
    const mp3 = makeMp3({ seconds: 20, title: 'Café ☕ loop' });
    expect(mp3.subarray(0, 5)).toEqual(Buffer.from([0x49, 0x44, 0x33, 0x04, 0x00]));
    const size = mp3.subarray(6, 10).reduce((n, b) => (n << 7) | b, 0);
    const tag = mp3.subarray(10, 10 + size);
    expect(tag.subarray(0, 4).toString('latin1')).toBe('TIT2');
    expect(tag.subarray(11).toString('utf8')).toBe('Café ☕ loop');

    const first = 10 + size;
    expect(mp3[first]).toBe(0xff);
    const info = first + 4 + 17;
    expect(mp3.subarray(info, info + 4).toString('latin1')).toBe('Info');
    expect(mp3.readUInt32BE(info + 8)).toBe(mp3FrameCount(20));
    expect(mp3.readUInt32BE(info + 12)).toBe(mp3.length - first);
    expect((mp3FrameCount(20) * SAMPLES_PER_FRAME) / SAMPLE_RATE).toBeCloseTo(20, 1);
  });

  it('holds a tone unless asked for silence', () => {
    const tone = makeMp3({ seconds: 1, id3: false });
    const silence = makeMp3({ seconds: 1, id3: false, tone: false });
    expect(tone.length).toBe(silence.length);
    const second = mp3FrameLengths(1, 128)[0]!; // offset of the first audio frame
    const sideInfo = (mp3: Buffer) => mp3.subarray(second + 4, second + 21);
    expect(sideInfo(silence).every((b) => b === 0)).toBe(true);
    expect(sideInfo(tone).some((b) => b !== 0)).toBe(true);
  });

  // How fast it builds them is the benches' concern (bench/delivery.ts makes hundreds of MiB).
  it('builds the longest track the provider makes, whole, at 128 kbps', () => {
    const seconds = 300;
    const mp3 = makeMp3({ seconds, id3: false });
    const frames = mp3FrameCount(seconds) + 1;
    expect(frameStarts(0, 128, frames).end).toBe(mp3.length);
    expect(Math.abs(mp3.length - (seconds * 128_000) / 8)).toBeLessThan(1_000);
  });

  it('refuses a duration that is not positive', () => {
    expect(() => makeMp3({ seconds: 0 })).toThrow(RangeError);
    expect(() => makeMp3({ seconds: Number.NaN })).toThrow(RangeError);
  });
});

describe('makeNotAudio', () => {
  it('is an HTML page of exactly the requested size', () => {
    const page = makeNotAudio(4096);
    expect(page.length).toBe(4096);
    expect(page.toString('utf8')).toMatch(/^<!DOCTYPE html>[\s\S]*<\/html>\n$/);
    expect(page[0]).not.toBe(0xff);
    expect(makeNotAudio(10).length).toBe(10);
  });
});
