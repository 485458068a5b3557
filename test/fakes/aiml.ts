/**
 * A fake AIML API and CDN on loopback, speaking the documented wire format of `elevenlabs/eleven_music`
 * (see shared/aiml-eleven-music-api.md): create with POST /v2/generate/audio, poll with
 * GET /v2/generate/audio?generation_id=…, download from the URL the completed poll returns. Errors use
 * the `{ statusCode, message, path, requestId, timestamp }` shape reported for the AIML API.
 * Lyrics drafts use the account's OpenAI-compatible POST /v1/chat/completions: by default it answers
 * with lyrics built from the last user message, or with what a test scripted.
 *
 * Time: a job's status is derived from the time elapsed since it was created each time anyone looks
 * (a poll, `job()`, `jobs`), so no timers run. Credits: charged when the job is created, because the
 * 403 for an empty account has to be decided there; a job that ends in `error` is not refunded.
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { makeMp3 } from './mp3.js';

// Spelled out here rather than imported from src/, so a typo in the client cannot agree with itself.
export const FAKE_AIML_MODEL = 'elevenlabs/eleven_music';
const apiPath = '/v2/generate/audio';
const cdnPrefix = '/cdn/generations/';
const minLengthMs = 10_000;
const maxLengthMs = 300_000;
const maxPromptChars = 2000;
const chatPath = '/v1/chat/completions';
/** Chat models the fake account offers; anything else is refused as OpenAI-compatible APIs do. */
export const FAKE_CHAT_MODELS = ['gpt-4o-mini', 'gpt-4o', 'test-lyrics-model'];

export interface FakeAimlOptions {
  /** The bearer key accepted (default 'test-aiml-key'). */
  apiKey?: string;
  /** Time from create to the final status (default 300 ms). */
  generationMs?: number | ((job: { prompt: string; musicLengthMs: number }) => number);
  /** Time spent 'queued' before 'generating' (default 50 ms). */
  queuedMs?: number;
  /** `credits_used` = round(seconds of music * this) (default 10). */
  creditsPerSecond?: number;
  /** Account balance; a create that needs more than is left gets 403 (default Infinity). */
  credits?: number;
  /** Prompts containing one of these (case-insensitive) are refused with 400 (default ['Taylor Swift']). */
  refusedTerms?: string[];
  /** The clock behind job timing and request timestamps (default Date.now), for tests that step time. */
  now?: () => number;
}

/** Shapes the next created job; scripts are used in order, one per job. */
export interface FakeJobScript {
  /** 'stuck' stays pending forever. */
  outcome?: 'completed' | 'error' | 'stuck';
  /** For outcome 'error': reported as `error: { name: 'GenerationError', message }`. */
  errorMessage?: string;
  /**
   * Statuses reported before the final one, each for an equal share of the generation time (replacing
   * the default 'queued' for `queuedMs`, then 'generating').
   */
  statuses?: string[];
  generationMs?: number;
  /** The bytes the CDN serves (default: an MP3 of the requested length). */
  audio?: Buffer;
  cdn?: {
    /** Answer downloads with this status (and a small body) instead of the file. */
    status?: number;
    /** Wait before sending headers. */
    delayMs?: number;
    /** Send headers, then wait this long before the body. */
    stallMs?: number;
    contentType?: string;
    /** Send the body chunked, without a content-length. */
    omitContentLength?: boolean;
  };
}

export type AimlRoute = 'create' | 'poll' | 'cdn' | 'chat' | 'other';

/** Shapes the next chat completion; scripts are used in order, one per completion. */
export interface FakeChatScript {
  /** The assistant's text (default: lyrics that quote the idea). */
  content?: string;
  /** `usage.total_tokens` (default: characters of request and answer / 4, rounded up). */
  totalTokens?: number;
  /** `meta.usage.credits_used`, as AIML adds to some answers (default: absent). */
  creditsUsed?: number;
}

export interface AimlRequestRecord {
  /** Arrival time on the fake's clock (`options.now`, else Date.now), once the body was read. */
  at: number;
  method: string;
  path: string;
  query: URLSearchParams;
  /** The query string as it arrived, still percent-encoded, without the '?'. */
  rawQuery: string;
  headers: Record<string, string | undefined>;
  /** The parsed JSON body, or undefined when there was none or it was not JSON. */
  body: unknown;
  rawBody: string;
  /** The status answered; 0 while the answer is pending and for a destroyed connection. */
  status: number;
  route: AimlRoute;
}

export interface AimlFault {
  status?: number;
  /** A JSON value, or a string sent as it is. */
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  /** How many requests in a row get this fault (default 1). */
  times?: number;
  /** Destroy the connection without answering. */
  network?: boolean;
  /** Wait this long, then answer (normally, unless a status is also given). */
  delayMs?: number;
}

export interface FakeAimlJob {
  readonly id: string;
  readonly status: string;
  readonly prompt: string;
  readonly musicLengthMs: number;
  readonly createdAt: number;
  readonly completedAt?: number;
  readonly audioUrl?: string;
  readonly audio?: Buffer;
  readonly creditsUsed?: number;
}

interface JobRecord {
  id: string;
  status: string;
  prompt: string;
  musicLengthMs: number;
  createdAt: number;
  completedAt?: number;
  audioUrl?: string;
  audio?: Buffer;
  creditsUsed?: number;
}

interface JobState {
  record: JobRecord;
  file: string;
  script: FakeJobScript;
  generationMs: number;
  finished: boolean;
}

export class FakeAiml {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly requests: AimlRequestRecord[] = [];

  private readonly states = new Map<string, JobState>();
  private readonly records = new Map<string, JobRecord>();
  private readonly byFile = new Map<string, JobState>();
  private readonly scripts: FakeJobScript[] = [];
  private readonly chatScripts: FakeChatScript[] = [];
  private readonly faults: Record<'create' | 'poll' | 'cdn' | 'chat', { fault: AimlFault; left: number }[]> =
    {
      create: [],
      poll: [],
      cdn: [],
      chat: [],
    };
  private readonly sockets = new Set<Socket>();
  private readonly waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private readonly now: () => number;
  private balance: number;
  private closed = false;
  /** Releases for the next downloads, in order (see `holdNextDownload`). */
  private readonly downloadHolds: Promise<unknown>[] = [];

  private constructor(
    private readonly server: Server,
    port: number,
    private readonly options: FakeAimlOptions,
  ) {
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.apiKey = options.apiKey ?? 'test-aiml-key';
    this.balance = options.credits ?? Infinity;
    this.now = options.now ?? Date.now;
  }

  static async start(options: FakeAimlOptions = {}): Promise<FakeAiml> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const fake = new FakeAiml(server, (server.address() as AddressInfo).port, options);
    server.on('connection', (socket) => {
      fake.sockets.add(socket);
      socket.once('close', () => fake.sockets.delete(socket));
    });
    server.on('request', (req, res) => {
      fake.handle(req, res).catch((error: unknown) => {
        // A bug in the fake must surface as a failed request, not as a hang.
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake AIML error: ${String(error)}`);
      });
    });
    return fake;
  }

  /** Credits left on the account. */
  get credits(): number {
    return this.balance;
  }

  setCredits(n: number): void {
    this.balance = n;
  }

  /** The next download (of any file) waits for `until` to settle before it is answered. */
  holdNextDownload(until: Promise<unknown>): void {
    this.downloadHolds.push(until.catch(() => undefined));
  }

  script(s: FakeJobScript): void {
    this.scripts.push(s);
  }

  chatScript(s: FakeChatScript): void {
    this.chatScripts.push(s);
  }

  failNext(route: 'create' | 'poll' | 'cdn' | 'chat', fault: AimlFault): void {
    this.faults[route].push({ fault, left: fault.times ?? 1 });
  }

  job(id: string): FakeAimlJob | undefined {
    const state = this.states.get(id);
    if (state) this.refresh(state);
    return state?.record;
  }

  get jobs(): ReadonlyMap<string, FakeAimlJob> {
    for (const state of this.states.values()) this.refresh(state);
    return this.records;
  }

  /** Completes a job now, whatever its script says. */
  completeNow(id: string): void {
    const state = this.states.get(id);
    if (!state) throw new Error(`no such job: ${id}`);
    if (!state.finished) this.finish(state, 'completed', this.now());
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const wait of this.waits) {
      clearTimeout(wait.timer);
      wait.resolve();
    }
    this.waits.clear();
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await done;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = req.method ?? 'GET';
    const record: AimlRequestRecord = {
      at: this.now(),
      method,
      path: url.pathname,
      query: url.searchParams,
      rawQuery: url.search.slice(1),
      headers: flattenHeaders(req),
      body: parseJson(rawBody),
      rawBody,
      status: 0,
      route: classify(method, url.pathname),
    };
    this.requests.push(record);
    const reply = new Reply(res, record);

    if (record.route !== 'other') {
      const fault = this.takeFault(record.route);
      if (fault?.network) {
        req.socket.destroy();
        return;
      }
      if (fault?.delayMs !== undefined && !(await this.wait(fault.delayMs))) return;
      if (fault?.status !== undefined) {
        sendFault(reply, fault, fault.status);
        return;
      }
    }

    switch (record.route) {
      case 'create':
        this.create(reply);
        return;
      case 'poll':
        this.poll(reply);
        return;
      case 'cdn':
        await this.download(reply, method === 'HEAD');
        return;
      case 'chat':
        this.chat(reply);
        return;
      case 'other':
        reply.error(404, `Cannot ${method} ${url.pathname}`);
    }
  }

  private takeFault(route: 'create' | 'poll' | 'cdn' | 'chat'): AimlFault | undefined {
    const queue = this.faults[route];
    const head = queue[0];
    if (!head) return undefined;
    head.left -= 1;
    if (head.left <= 0) queue.shift();
    return head.fault;
  }

  private authorized(reply: Reply): boolean {
    if (reply.record.headers.authorization === `Bearer ${this.apiKey}`) return true;
    reply.error(401, 'Unauthorized');
    return false;
  }

  private create(reply: Reply): void {
    if (!this.authorized(reply)) return;
    const { record } = reply;
    const contentType = record.headers['content-type'] ?? '';
    if (!/^application\/json\b/i.test(contentType)) {
      reply.error(400, 'Content-Type must be application/json');
      return;
    }
    const checked =
      record.body === undefined && record.rawBody.trim() !== ''
        ? 'Body is not valid JSON'
        : validateCreate(record.body);
    if (typeof checked === 'string') {
      reply.error(400, checked);
      return;
    }
    const { prompt, musicLengthMs } = checked;
    const lowered = prompt.toLowerCase();
    const refused = (this.options.refusedTerms ?? ['Taylor Swift']).find((term) =>
      lowered.includes(term.toLowerCase()),
    );
    if (refused !== undefined) {
      reply.error(
        400,
        `Prompt refused: it references a real artist (${refused}). Describe the style instead.`,
      );
      return;
    }
    const cost = Math.round((musicLengthMs / 1000) * (this.options.creditsPerSecond ?? 10));
    if (cost > this.balance) {
      reply.error(
        403,
        `Insufficient credits: this generation needs ${cost} credits and the account has ${this.balance} left.`,
      );
      return;
    }
    this.balance -= cost;

    const script = this.scripts.shift() ?? {};
    const file = randomUUID();
    const id = `${file}:${FAKE_AIML_MODEL}`;
    const configured = this.options.generationMs ?? 300;
    const generationMs =
      script.generationMs ??
      (typeof configured === 'function' ? configured({ prompt, musicLengthMs }) : configured);
    const state: JobState = {
      // Whatever the timing, the create answer is the first pending status, as a real queue's would be.
      record: {
        id,
        status: script.statuses?.[0] ?? 'queued',
        prompt,
        musicLengthMs,
        createdAt: this.now(),
        creditsUsed: cost,
      },
      file,
      script,
      generationMs,
      finished: false,
    };
    this.states.set(id, state);
    this.records.set(id, state.record);
    this.byFile.set(file, state);
    reply.json(200, { id, status: state.record.status });
  }

  private chat(reply: Reply): void {
    if (!this.authorized(reply)) return;
    const { record } = reply;
    if (!/^application\/json\b/i.test(record.headers['content-type'] ?? '')) {
      reply.error(400, 'Content-Type must be application/json');
      return;
    }
    const checked = validateChat(record.body);
    if (typeof checked === 'string') {
      reply.error(400, checked);
      return;
    }
    const script = this.chatScripts.shift() ?? {};
    const idea = checked.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
    const content = script.content ?? defaultLyrics(idea);
    const asked = checked.messages.reduce((n, m) => n + m.content.length, 0);
    const totalTokens = script.totalTokens ?? Math.ceil((asked + content.length) / 4);
    reply.json(200, {
      id: `chatcmpl-${randomUUID()}`,
      object: 'chat.completion',
      created: Math.floor(this.now() / 1000),
      model: checked.model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: Math.ceil(asked / 4),
        completion_tokens: Math.max(0, totalTokens - Math.ceil(asked / 4)),
        total_tokens: totalTokens,
      },
      ...(script.creditsUsed === undefined ? {} : { meta: { usage: { credits_used: script.creditsUsed } } }),
    });
  }

  private poll(reply: Reply): void {
    if (!this.authorized(reply)) return;
    const id = reply.record.query.get('generation_id');
    if (!id) {
      reply.error(400, 'generation_id is required');
      return;
    }
    const state = this.states.get(id);
    if (!state) {
      reply.error(404, 'Generation not found');
      return;
    }
    this.refresh(state);
    const job = state.record;
    reply.json(200, {
      id: job.id,
      status: job.status,
      audio_file: job.audioUrl === undefined ? null : { url: job.audioUrl },
      error:
        job.status === 'error'
          ? { name: 'GenerationError', message: state.script.errorMessage ?? 'The generation failed.' }
          : null,
      meta: state.finished ? { usage: { credits_used: job.creditsUsed ?? 0 } } : null,
    });
  }

  private async download(reply: Reply, headOnly: boolean): Promise<void> {
    const name = reply.record.path.slice(cdnPrefix.length);
    const state = name.endsWith('.mp3') ? this.byFile.get(name.slice(0, -'.mp3'.length)) : undefined;
    if (state) this.refresh(state);
    const audio = state?.record.audio;
    if (!state || !audio) {
      reply.text(404, cdnNotFound, 'application/xml');
      return;
    }
    const cdn = state.script.cdn ?? {};
    const hold = this.downloadHolds.shift();
    if (hold) {
      await hold;
      if (this.closed) return;
    }
    if (cdn.delayMs !== undefined && !(await this.wait(cdn.delayMs))) return;
    if (cdn.status !== undefined && (cdn.status < 200 || cdn.status >= 300)) {
      if (cdn.status === 404) reply.text(404, cdnNotFound, 'application/xml');
      else reply.text(cdn.status, `${cdn.status} ${STATUS_CODES[cdn.status] ?? 'Error'}\n`, 'text/plain');
      return;
    }
    const headers: Record<string, string> = { 'content-type': cdn.contentType ?? 'audio/mpeg' };
    if (!cdn.omitContentLength) headers['content-length'] = String(audio.length);
    const { res } = reply;
    if (res.destroyed) return;
    reply.record.status = cdn.status ?? 200;
    res.writeHead(reply.record.status, headers);
    if (cdn.stallMs !== undefined) {
      res.flushHeaders();
      if (!(await this.wait(cdn.stallMs))) return;
    }
    if (headOnly) {
      res.end();
      return;
    }
    if (cdn.omitContentLength) {
      // Written in pieces: a single end(buffer) on unsent headers would make Node add a content-length.
      for (let at = 0; at < audio.length; at += 64 * 1024) res.write(audio.subarray(at, at + 64 * 1024));
      res.end();
    } else {
      res.end(audio);
    }
  }

  /** Brings a job's status up to date with the clock. */
  private refresh(state: JobState): void {
    if (state.finished) return;
    const { record, script, generationMs } = state;
    const elapsed = this.now() - record.createdAt;
    const outcome = script.outcome ?? 'completed';
    if (outcome !== 'stuck' && elapsed >= generationMs) {
      this.finish(state, outcome, record.createdAt + generationMs);
      return;
    }
    const statuses = script.statuses;
    if (statuses && statuses.length > 0) {
      const index = generationMs > 0 ? Math.floor((elapsed / generationMs) * statuses.length) : 0;
      // A stuck job that has run through its script carries on as an ordinary long generation.
      record.status = index < statuses.length ? (statuses[Math.max(0, index)] ?? 'queued') : 'generating';
    } else {
      record.status = elapsed < (this.options.queuedMs ?? 50) ? 'queued' : 'generating';
    }
  }

  private finish(state: JobState, outcome: 'completed' | 'error', at: number): void {
    const { record, script } = state;
    state.finished = true;
    record.status = outcome;
    record.completedAt = at;
    if (outcome === 'completed') {
      record.audio = script.audio ?? makeMp3({ seconds: record.musicLengthMs / 1000 });
      record.audioUrl = `${this.baseUrl}${cdnPrefix}${state.file}.mp3`;
    }
  }

  /** Resolves true after `ms`, or false at once when the fake closes first. */
  private wait(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.waits.delete(entry);
          resolve(!this.closed);
        }, ms),
        resolve: () => resolve(false),
      };
      this.waits.add(entry);
    });
  }
}

/** Writes the answer and notes its status in the request record. */
class Reply {
  constructor(
    readonly res: ServerResponse,
    readonly record: AimlRequestRecord,
  ) {}

  json(status: number, body: unknown, headers: Record<string, string> = {}): void {
    this.send(status, JSON.stringify(body), {
      'content-type': 'application/json; charset=utf-8',
      ...headers,
    });
  }

  text(status: number, body: string, contentType: string, headers: Record<string, string> = {}): void {
    this.send(status, body, { 'content-type': contentType, ...headers });
  }

  error(status: number, message: string, headers: Record<string, string> = {}): void {
    this.json(status, errorBody(status, message, this.record.path), headers);
  }

  private send(status: number, body: string, headers: Record<string, string>): void {
    if (this.res.destroyed) return;
    this.record.status = status;
    const data = Buffer.from(body, 'utf8');
    this.res.writeHead(status, { ...headers, 'content-length': String(data.length) });
    this.res.end(this.record.method === 'HEAD' ? undefined : data);
  }
}

function sendFault(reply: Reply, fault: AimlFault, status: number): void {
  const headers = fault.headers ?? {};
  if (fault.rawBody !== undefined) reply.text(status, fault.rawBody, 'text/html; charset=utf-8', headers);
  else if (typeof fault.body === 'string')
    reply.text(status, fault.body, 'text/plain; charset=utf-8', headers);
  else if (fault.body !== undefined) reply.json(status, fault.body, headers);
  else reply.error(status, STATUS_CODES[status] ?? 'Error', headers);
}

function errorBody(status: number, message: string, path: string) {
  return { statusCode: status, message, path, requestId: randomUUID(), timestamp: new Date().toISOString() };
}

const cdnNotFound =
  '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code>' +
  '<Message>The specified key does not exist.</Message></Error>\n';

function classify(method: string, path: string): AimlRoute {
  if (path === apiPath && method === 'POST') return 'create';
  if (path === apiPath && method === 'GET') return 'poll';
  if (path.startsWith(cdnPrefix) && (method === 'GET' || method === 'HEAD')) return 'cdn';
  if (path === chatPath && method === 'POST') return 'chat';
  return 'other';
}

/** The create body as documented, or a message saying what is wrong with it. */
function validateCreate(body: unknown): { prompt: string; musicLengthMs: number } | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'Body must be a JSON object';
  const fields = body as Record<string, unknown>;
  if (fields.model !== FAKE_AIML_MODEL)
    return `model must be one of the following values: ${FAKE_AIML_MODEL}`;
  const { prompt } = fields;
  if (prompt === undefined) return 'prompt is required';
  if (typeof prompt !== 'string') return 'prompt must be a string';
  if (prompt.trim() === '') return 'prompt should not be empty';
  // Counted in code points, as JSON Schema's maxLength is.
  const surrogatePairs = prompt.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0;
  if (prompt.length - surrogatePairs > maxPromptChars) {
    return `prompt must be shorter than or equal to ${maxPromptChars} characters`;
  }
  const length = 'music_length_ms' in fields ? fields.music_length_ms : minLengthMs;
  if (
    typeof length !== 'number' ||
    !Number.isInteger(length) ||
    length < minLengthMs ||
    length > maxLengthMs
  ) {
    return `music_length_ms must be an integer from ${minLengthMs} to ${maxLengthMs}`;
  }
  return { prompt, musicLengthMs: length };
}

/** A chat-completions body as OpenAI-compatible APIs accept it, or what is wrong with it. */
function validateChat(
  body: unknown,
): { model: string; messages: { role: string; content: string }[] } | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'Body must be a JSON object';
  const fields = body as Record<string, unknown>;
  if (typeof fields.model !== 'string' || fields.model === '') return 'model is required';
  if (!FAKE_CHAT_MODELS.includes(fields.model)) return `model ${fields.model} does not exist`;
  const { messages } = fields;
  if (!Array.isArray(messages) || messages.length === 0) return 'messages must be a non-empty array';
  const checked: { role: string; content: string }[] = [];
  for (const [i, message] of messages.entries()) {
    const m = message as Record<string, unknown> | null;
    if (typeof m !== 'object' || m === null) return `messages[${i}] must be an object`;
    if (!['system', 'user', 'assistant'].includes(String(m.role)))
      return `messages[${i}].role must be one of system, user, assistant`;
    if (typeof m.content !== 'string' || m.content === '') return `messages[${i}].content must be a string`;
    checked.push({ role: String(m.role), content: m.content });
  }
  if (!checked.some((m) => m.role === 'user')) return 'messages must include a user message';
  if ('max_tokens' in fields && (!Number.isInteger(fields.max_tokens) || Number(fields.max_tokens) < 1))
    return 'max_tokens must be a positive integer';
  return { model: fields.model, messages: checked };
}

/** Sectioned lyrics that carry the idea, so a test can see it went through. */
function defaultLyrics(idea: string): string {
  const line = idea.replace(/\s+/g, ' ').trim().slice(0, 80);
  return [
    '[Verse 1]',
    `We wrote it down: ${line}`,
    'A quiet street, a second chance',
    '',
    '[Chorus]',
    'Sing it back to me tonight',
    'Every word will turn out right',
    '',
    '[Bridge]',
    'Hold the note until the light',
  ].join('\n');
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function flattenHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
