import { afterEach, describe, expect, it } from 'vitest';
import { createAimlClient, parseRetryAfter } from '../../src/aiml/client.js';
import { ProviderError } from '../../src/aiml/errors.js';
import { FakeAiml } from '../fakes/aiml.js';
import { captureLogs } from '../support/log.js';
import { rejectionOf } from '../support/errors.js';

let aiml: FakeAiml | undefined;
afterEach(async () => {
  await aiml?.close();
  aiml = undefined;
});

async function setup(options: { key?: string; retries?: number; generationMs?: number } = {}) {
  aiml = await FakeAiml.start({ generationMs: options.generationMs ?? 100, queuedMs: 20 });
  const logs = captureLogs();
  const client = createAimlClient({
    baseUrl: aiml.baseUrl,
    apiKey: options.key ?? aiml.apiKey,
    logger: logs.logger,
    requestTimeoutMs: 1_000,
    retry: { retries: options.retries ?? 3, minTimeoutMs: 10, maxTimeoutMs: 40 },
  });
  return { aiml, client, logs };
}

describe('AIML client', () => {
  it('submits the documented body and polls with the ID encoded until completed', async () => {
    // A generation that runs until the test finishes it, so the first check sees it pending however
    // slow the machine.
    const { aiml, client } = await setup({ generationMs: 600_000 });
    const submitted = await client.create({ prompt: 'lofi', lengthSeconds: 20 });
    expect(submitted.generationId).toMatch(/^[0-9a-f-]{36}:elevenlabs\/eleven_music$/);
    expect(submitted.status).toBe('queued');
    expect(aiml.requests[0]?.body).toEqual({
      model: 'elevenlabs/eleven_music',
      prompt: 'lofi',
      music_length_ms: 20_000,
    });

    expect(await client.poll(submitted.generationId)).toMatchObject({ kind: 'pending', known: true });
    aiml.completeNow(submitted.generationId);
    const done = await client.poll(submitted.generationId);
    expect(done).toEqual({
      kind: 'completed',
      audioUrl: aiml.job(submitted.generationId)?.audioUrl,
      creditsUsed: 200,
    });
    const poll = aiml.requests.find((r) => r.route === 'poll');
    expect(poll?.path).toBe('/v2/generate/audio');
    expect(poll?.query.get('generation_id')).toBe(submitted.generationId);
  });

  it.each([
    [401, { statusCode: 401, message: 'Unauthorized' }, 'unauthorized'],
    [403, { statusCode: 403, message: 'Insufficient credits' }, 'out-of-credits'],
    [400, { statusCode: 400, message: 'Prompt refused: names a real artist' }, 'refused'],
    [
      422,
      { statusCode: 422, message: ['prompt must be shorter than or equal to 2000 characters'] },
      'refused',
    ],
  ] as const)('does not retry HTTP %i and classifies it as %s', async (status, body, kind) => {
    const { aiml, client } = await setup();
    aiml.failNext('create', { status, body });
    const error = await rejectionOf(client.create({ prompt: 'x', lengthSeconds: 10 }), ProviderError);
    expect(error.kind).toBe(kind);
    expect(error.details.status).toBe(status);
    expect(aiml.requests.filter((r) => r.route === 'create')).toHaveLength(1);
    if (kind === 'refused') {
      expect(error.userMessage).toBe(
        `The music service refused this prompt: ${([] as string[]).concat(body.message).join('; ')}`,
      );
    }
  });

  it('retries 5xx, network failures and 429, then succeeds', async () => {
    const { aiml, client } = await setup();
    aiml.failNext('create', { status: 500, rawBody: 'oops' });
    aiml.failNext('create', { network: true });
    aiml.failNext('create', { status: 429, body: { message: 'slow down' } });
    const submitted = await client.create({ prompt: 'x', lengthSeconds: 10 });
    expect(submitted.status).toBe('queued');
    expect(aiml.requests.filter((r) => r.route === 'create')).toHaveLength(4);
  });

  it('gives up after the retry budget with the last failure, and logs no key', async () => {
    const { aiml, client, logs } = await setup({ retries: 2 });
    aiml.failNext('create', { status: 503, body: { message: 'down' }, times: 5 });
    const error = await rejectionOf(client.create({ prompt: 'x', lengthSeconds: 10 }), ProviderError);
    expect(error.kind).toBe('unavailable');
    expect(error.userMessage).toBe(
      'The music service is not responding right now. Please try again in a few minutes.',
    );
    expect(aiml.requests.filter((r) => r.route === 'create')).toHaveLength(3);
    expect(logs.lines.filter((l) => l.msg === 'AIML create attempt failed')).toHaveLength(3);
    expect(logs.text()).not.toContain(aiml.apiKey);
  });

  it('waits for Retry-After before the next attempt, and fails fast when it is too long', async () => {
    const { aiml, client } = await setup();
    aiml.failNext('create', { status: 429, body: { message: 'busy' }, headers: { 'retry-after': '1' } });
    await client.create({ prompt: 'x', lengthSeconds: 10 });
    const [first, second] = aiml.requests.filter((r) => r.route === 'create');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1_000);

    aiml.failNext('create', { status: 429, body: { message: 'busy' }, headers: { 'retry-after': '3600' } });
    const error = await rejectionOf(client.create({ prompt: 'x', lengthSeconds: 10 }), ProviderError);
    expect(error.kind).toBe('rate-limited');
    expect(error.details.retryAfterMs).toBe(3_600_000);
  });

  it('treats malformed JSON and bodies that break the schema as bad responses', async () => {
    const { aiml, client } = await setup({ retries: 0 });
    aiml.failNext('create', { status: 200, rawBody: '{"id": "abc", "status":' });
    expect((await rejectionOf(client.create({ prompt: 'x', lengthSeconds: 10 }), ProviderError)).kind).toBe(
      'bad-response',
    );
    aiml.failNext('poll', { status: 200, body: { status: 'completed' } });
    expect((await rejectionOf(client.poll('abc'), ProviderError)).kind).toBe('bad-response');
  });

  it('reads a completed status without a file, and the error status, as failures', async () => {
    const { aiml, client } = await setup();
    aiml.failNext('poll', { status: 200, body: { id: 'a', status: 'completed', audio_file: null } });
    expect(await client.poll('a')).toMatchObject({ kind: 'failed' });
    aiml.failNext('poll', {
      status: 200,
      body: {
        id: 'a',
        status: 'error',
        error: { name: 'X', message: 'Could not render vocals' },
        meta: null,
      },
    });
    expect(await client.poll('a')).toEqual({
      kind: 'failed',
      message: 'Could not render vocals',
      creditsUsed: undefined,
    });
  });

  it('keeps unknown statuses pending, flagged as unknown', async () => {
    const { aiml, client } = await setup();
    aiml.failNext('poll', { status: 200, body: { id: 'a', status: 'waiting' } });
    expect(await client.poll('a')).toEqual({ kind: 'pending', status: 'waiting', known: false });
  });

  it('a poll is a single attempt: the tracker owns the retry schedule', async () => {
    const { aiml, client } = await setup();
    aiml.failNext('poll', { status: 502, rawBody: 'bad gateway' });
    expect((await rejectionOf(client.poll('a'), ProviderError)).kind).toBe('unavailable');
    expect(aiml.requests.filter((r) => r.route === 'poll')).toHaveLength(1);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('2')).toBe(2_000);
    expect(
      parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')),
    ).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
