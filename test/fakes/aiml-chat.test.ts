import { afterEach, describe, expect, it } from 'vitest';
import { FakeAiml } from './aiml.js';

let fake: FakeAiml | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

type Json = Record<string, unknown>;

async function chat(f: FakeAiml, body: unknown, key = f.apiKey, contentType = 'application/json') {
  const response = await fetch(`${f.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

const valid = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'You write lyrics.' },
    { role: 'user', content: 'a lighthouse keeper in love' },
  ],
};

describe('FakeAiml chat completions', () => {
  it('answers an OpenAI-compatible completion with lyrics carrying the idea, and token usage', async () => {
    fake = await FakeAiml.start();
    const { status, body } = await chat(fake, valid);
    expect(status).toBe(200);
    expect(body.object).toBe('chat.completion');
    expect(body.model).toBe('gpt-4o-mini');
    const choices = body.choices as { message: { role: string; content: string }; finish_reason: string }[];
    expect(choices[0]?.message.role).toBe('assistant');
    expect(choices[0]?.message.content).toContain('a lighthouse keeper in love');
    expect(choices[0]?.message.content).toMatch(/\[Chorus\]/);
    const usage = body.usage as { total_tokens: number };
    expect(usage.total_tokens).toBeGreaterThan(0);
    expect(fake.requests[0]?.route).toBe('chat');
  });

  it('uses scripted answers in order, credits included', async () => {
    fake = await FakeAiml.start();
    fake.chatScript({ content: 'first', totalTokens: 7, creditsUsed: 42 });
    const first = await chat(fake, valid);
    expect((first.body.choices as { message: { content: string } }[])[0]?.message.content).toBe('first');
    expect(first.body.usage).toMatchObject({ total_tokens: 7 });
    expect(first.body.meta).toEqual({ usage: { credits_used: 42 } });
    const second = await chat(fake, valid);
    expect(second.body.meta).toBeUndefined();
  });

  it('refuses a bad key, a wrong content type, unknown models and malformed messages', async () => {
    fake = await FakeAiml.start();
    expect((await chat(fake, valid, 'wrong')).status).toBe(401);
    expect((await chat(fake, valid, fake.apiKey, 'text/plain')).status).toBe(400);
    const cases: [unknown, string][] = [
      [{ ...valid, model: 'no-such-model' }, 'model no-such-model does not exist'],
      [{ messages: valid.messages }, 'model is required'],
      [{ model: 'gpt-4o-mini', messages: [] }, 'messages must be a non-empty array'],
      [
        { model: 'gpt-4o-mini', messages: [{ role: 'robot', content: 'x' }] },
        'messages[0].role must be one of system, user, assistant',
      ],
      [
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 3 }] },
        'messages[0].content must be a string',
      ],
      [
        { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'x' }] },
        'messages must include a user message',
      ],
      [{ ...valid, max_tokens: 0 }, 'max_tokens must be a positive integer'],
      ['not json', 'Body must be a JSON object'],
    ];
    for (const [body, message] of cases) {
      const answer = await chat(fake, body);
      expect(answer.status).toBe(400);
      expect(answer.body.message).toBe(message);
    }
  });

  it('answers scripted faults, then normally', async () => {
    fake = await FakeAiml.start();
    fake.failNext('chat', { status: 503, times: 2 });
    expect((await chat(fake, valid)).status).toBe(503);
    expect((await chat(fake, valid)).status).toBe(503);
    expect((await chat(fake, valid)).status).toBe(200);
    expect(fake.requests.map((r) => r.status)).toEqual([503, 503, 200]);
  });
});
