import { createDecipheriv, randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import OpusScript from 'opusscript';
import { WebSocketServer, type WebSocket } from 'ws';
import { dominantFrequency, rms } from '../support/tone.js';

/**
 * A fake Discord voice server on loopback, following voice gateway version 8 as @discordjs/voice
 * 0.19 speaks it: a WebSocket over TLS (a test certificate the client must trust through
 * NODE_EXTRA_CA_CERTS), Hello / Identify / Ready, UDP IP discovery, Select Protocol, Session
 * Description with `aead_aes256_gcm_rtpsize` and DAVE protocol version 0 (so media carries
 * transport encryption only), heartbeats with `seq_ack`. It decrypts every RTP packet it receives,
 * decodes the Opus, and reports what it heard as tones: the dominant frequency of each 200 ms.
 */

export const VOICE_TLS_CERT = new URL('./voice-tls/cert.pem', import.meta.url);
const VOICE_TLS_KEY = new URL('./voice-tls/key.pem', import.meta.url);

const OP = {
  identify: 0,
  selectProtocol: 1,
  ready: 2,
  heartbeat: 3,
  sessionDescription: 4,
  speaking: 5,
  heartbeatAck: 6,
  resume: 7,
  hello: 8,
  resumed: 9,
} as const;

/** Packets per analysis window: 10 × 20 ms. */
const WINDOW_PACKETS = 10;
const SILENCE_RMS = 0.005;

/** A stretch of one tone (or of silence, `hz` 0), as the server heard it. */
export interface HeardSegment {
  hz: number;
  /** Arrival time of its first and last packet (ms since the epoch). */
  from: number;
  to: number;
  packets: number;
}

export interface VoiceSessionRecord {
  guildId: string;
  userId: string;
  sessionId: string;
  maxDaveProtocolVersion: number | undefined;
  mode: string | undefined;
  ssrc: number;
  openedAt: number;
  readyAt: number | undefined;
  closedAt: number | undefined;
  speaking: number[];
}

interface Connection {
  ws: WebSocket;
  record: VoiceSessionRecord;
  key: Buffer | undefined;
  seq: number;
  remote: { address: string; port: number } | undefined;
}

interface Listener {
  ssrc: number;
  /** Arrival of the last packet with sound in it, and the silences between such packets. */
  lastLoudAt: number | undefined;
  silences: { from: number; to: number }[];
  decoder: OpusScript;
  window: Float32Array[];
  windowStart: number;
  segments: HeardSegment[];
}

export class FakeVoiceServer extends EventEmitter {
  readonly sessions: VoiceSessionRecord[] = [];
  /** Packets that failed to decrypt: a wrong key, nonce or layout. Tests expect none. */
  decryptFailures = 0;
  packetsReceived = 0;
  private readonly tokens = new Map<string, { guildId: string; userId: string }>();
  private readonly connections = new Set<Connection>();
  /** Sessions by voice session ID, kept after their socket closes so that a Resume can take them up. */
  private readonly resumable = new Map<string, Connection>();
  /** How many Resumes were accepted. */
  resumes = 0;
  private readonly receivers = new Map<number, Listener>();
  private nextSsrc = 1000;

  private constructor(
    private readonly https: Server,
    private readonly wss: WebSocketServer,
    private readonly udp: Socket,
    /** `host:port`, exactly what VOICE_SERVER_UPDATE carries. */
    readonly endpoint: string,
    private readonly udpPort: number,
  ) {
    super();
  }

  static async start(): Promise<FakeVoiceServer> {
    const https = createServer(
      { cert: readFileSync(VOICE_TLS_CERT), key: readFileSync(VOICE_TLS_KEY) },
      (_request, response) => {
        // Only WebSocket upgrades are served here, as on Discord's voice servers.
        response.writeHead(426, { upgrade: 'websocket' });
        response.end();
      },
    );
    const wss = new WebSocketServer({ server: https });
    https.listen(0, '127.0.0.1');
    await once(https, 'listening');
    const udp = createSocket('udp4');
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    const { port } = https.address() as AddressInfo;
    const server = new FakeVoiceServer(https, wss, udp, `127.0.0.1:${port}`, udp.address().port);
    wss.on('connection', (ws, request) => server.onConnection(ws, request.url ?? ''));
    udp.on('message', (message, remote) => server.onDatagram(message, remote));
    return server;
  }

  /** What the fake Discord gateway hands out in VOICE_SERVER_UPDATE. */
  issueToken(guildId: string, userId: string): string {
    const token = randomBytes(8).toString('hex');
    this.tokens.set(token, { guildId, userId });
    return token;
  }

  /** Closes the guild's voice sessions as Discord does when the bot is kicked from the channel (4014). */
  disconnect(guildId: string, code = 4014): void {
    for (const connection of this.connections) {
      if (connection.record.guildId === guildId) connection.ws.close(code, 'Disconnected');
    }
  }

  /** Drops the guild's voice sockets without a close frame, as a network fault would (1006: may resume). */
  dropConnections(guildId: string): void {
    for (const connection of this.connections) {
      if (connection.record.guildId === guildId) connection.ws.terminate();
    }
  }

  /** Whether a voice session of this guild is open now. */
  connected(guildId: string): boolean {
    return [...this.connections].some((c) => c.record.guildId === guildId && c.record.readyAt !== undefined);
  }

  /** Every tone heard from one guild's sessions, in order, silence left out. */
  tones(guildId: string): HeardSegment[] {
    const ssrcs = new Set(this.sessions.filter((s) => s.guildId === guildId).map((s) => s.ssrc));
    return [...this.receivers.values()]
      .filter((l) => ssrcs.has(l.ssrc))
      .flatMap((l) => l.segments)
      .filter((segment) => segment.hz !== 0)
      .sort((a, b) => a.from - b.from);
  }

  /** Stretches without sound between two packets with sound, per guild (e.g. between two tracks). */
  silences(guildId: string): { from: number; to: number }[] {
    const ssrcs = new Set(this.sessions.filter((s) => s.guildId === guildId).map((s) => s.ssrc));
    return [...this.receivers.values()].filter((l) => ssrcs.has(l.ssrc)).flatMap((l) => l.silences);
  }

  /**
   * Resolves with the first segment of a tone near `hz` still sounding at or after `since`. A
   * segment's edges are those of its 200 ms windows, so it may start a little before `since`.
   */
  waitForTone(guildId: string, hz: number, since = 0, timeoutMs = 30_000): Promise<HeardSegment> {
    const match = (segment: HeardSegment) => Math.abs(segment.hz - hz) < 20 && segment.to >= since;
    return this.waitFor(() => this.tones(guildId).find(match), `a ${hz} Hz tone`, timeoutMs);
  }

  /** Resolves when `check` returns something, re-checked on every window and session change. */
  waitFor<T>(check: () => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
    const found = check();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const onChange = () => {
        const value = check();
        if (value === undefined) return;
        clearTimeout(timer);
        this.off('change', onChange);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.off('change', onChange);
        const heard = [...this.receivers.values()]
          .flatMap((l) => l.segments.map((s) => `${s.hz} Hz × ${s.packets}`))
          .join(', ');
        reject(
          new Error(`fake voice server: no ${what} within ${timeoutMs} ms; heard: ${heard || 'nothing'}`),
        );
      }, timeoutMs);
      this.on('change', onChange);
    });
  }

  async close(): Promise<void> {
    for (const connection of this.connections) connection.ws.terminate();
    for (const listener of this.receivers.values()) listener.decoder.delete();
    this.wss.close();
    this.udp.close();
    this.https.closeAllConnections();
    await new Promise<void>((resolve) => this.https.close(() => resolve()));
  }

  // ---------------------------------------------------------------- gateway

  private onConnection(ws: WebSocket, url: string): void {
    if (!url.includes('v=8')) {
      ws.close(4012, 'Unknown protocol');
      return;
    }
    const connection: Connection = {
      ws,
      record: {
        guildId: '',
        userId: '',
        sessionId: '',
        maxDaveProtocolVersion: undefined,
        mode: undefined,
        ssrc: this.nextSsrc++,
        openedAt: Date.now(),
        readyAt: undefined,
        closedAt: undefined,
        speaking: [],
      },
      key: undefined,
      seq: 0,
      remote: undefined,
    };
    this.connections.add(connection);
    ws.on('close', () => {
      this.connections.delete(connection);
      connection.record.closedAt = Date.now();
      this.emit('change');
    });
    ws.on('message', (raw: Buffer, binary: boolean) => {
      // DAVE's MLS messages are binary; with protocol version 0 none are expected.
      if (!binary) this.onFrame(connection, raw.toString('utf8'));
    });
    this.send(connection, OP.hello, { heartbeat_interval: 13_750 });
  }

  private onFrame(connection: Connection, text: string): void {
    let frame: { op?: number; d?: Record<string, unknown> };
    try {
      frame = JSON.parse(text) as typeof frame;
    } catch {
      connection.ws.close(4002, 'Failed to decode payload');
      return;
    }
    const d = frame.d ?? {};
    switch (frame.op) {
      case OP.identify: {
        const grant = this.tokens.get(String(d.token));
        if (!grant || grant.guildId !== d.server_id || grant.userId !== d.user_id) {
          connection.ws.close(4004, 'Authentication failed');
          return;
        }
        Object.assign(connection.record, {
          guildId: grant.guildId,
          userId: grant.userId,
          sessionId: String(d.session_id),
          maxDaveProtocolVersion:
            typeof d.max_dave_protocol_version === 'number' ? d.max_dave_protocol_version : undefined,
        });
        this.sessions.push(connection.record);
        this.resumable.set(connection.record.sessionId, connection);
        this.send(connection, OP.ready, {
          ssrc: connection.record.ssrc,
          ip: '127.0.0.1',
          port: this.udpPort,
          modes: ['aead_aes256_gcm_rtpsize', 'aead_xchacha20_poly1305_rtpsize'],
          heartbeat_interval: 1, // obsolete field Discord still sends
        });
        return;
      }
      case OP.heartbeat:
        this.send(connection, OP.heartbeatAck, { t: d.t });
        return;
      case OP.selectProtocol: {
        const data = (d.data ?? {}) as { address?: unknown; port?: unknown; mode?: unknown };
        if (data.mode !== 'aead_aes256_gcm_rtpsize') {
          connection.ws.close(4016, 'Unknown encryption mode');
          return;
        }
        connection.record.mode = data.mode;
        connection.remote = { address: String(data.address), port: Number(data.port) };
        connection.key = randomBytes(32);
        this.send(connection, OP.sessionDescription, {
          mode: data.mode,
          secret_key: [...connection.key],
          dave_protocol_version: 0,
          audio_codec: 'opus',
          media_session_id: randomBytes(8).toString('hex'),
        });
        connection.record.readyAt = Date.now();
        this.emit('change');
        return;
      }
      case OP.speaking:
        connection.record.speaking.push(Number(d.speaking));
        return;
      case OP.resume: {
        // The same session on a new socket: same SSRC and key, so the UDP stream carries on.
        const earlier = this.resumable.get(String(d.session_id));
        const grant = this.tokens.get(String(d.token));
        if (!earlier || !grant || grant.guildId !== d.server_id || earlier.record.guildId !== grant.guildId) {
          connection.ws.close(4006, 'Session no longer valid');
          return;
        }
        connection.record = earlier.record;
        connection.record.closedAt = undefined;
        connection.key = earlier.key;
        connection.remote = earlier.remote;
        this.resumable.set(connection.record.sessionId, connection);
        this.resumes++;
        this.send(connection, OP.resumed, null);
        this.emit('change');
        return;
      }
      default:
        return;
    }
  }

  private send(connection: Connection, op: number, d: unknown): void {
    if (connection.ws.readyState !== connection.ws.OPEN) return;
    connection.ws.send(JSON.stringify({ op, d, seq: ++connection.seq }));
  }

  // ---------------------------------------------------------------- UDP

  private onDatagram(message: Buffer, remote: RemoteInfo): void {
    // IP discovery: type 1, length 70, SSRC, then the address the server saw, port last.
    if (message.length === 74 && message.readUInt16BE(0) === 1) {
      const reply = Buffer.alloc(74);
      reply.writeUInt16BE(2, 0);
      reply.writeUInt16BE(70, 2);
      reply.writeUInt32BE(message.readUInt32BE(4), 4);
      reply.write(remote.address, 8, 'utf8');
      reply.writeUInt16BE(remote.port, 72);
      this.udp.send(reply, remote.port, remote.address);
      return;
    }
    if (message.length < 12 + 16 + 4 || (message[0] ?? 0) >> 6 !== 2) return; // keep-alives
    const ssrc = message.readUInt32BE(8);
    const connection = [...this.connections].find((c) => c.record.ssrc === ssrc);
    if (!connection?.key) return;
    this.packetsReceived++;
    const opus = this.decrypt(message, connection.key);
    if (!opus) {
      this.decryptFailures++;
      return;
    }
    this.hear(ssrc, opus);
  }

  /** `aead_aes256_gcm_rtpsize`: the RTP header is the additional data; a 4-byte counter nonce trails the packet. */
  private decrypt(packet: Buffer, key: Buffer): Buffer | undefined {
    const hasExtension = ((packet[0] ?? 0) & 0x10) !== 0;
    const csrcs = (packet[0] ?? 0) & 0x0f;
    let headerLength = 12 + csrcs * 4;
    if (hasExtension) headerLength += 4; // the extension's header is unencrypted; its body is not
    const nonce = Buffer.alloc(12);
    packet.copy(nonce, 0, packet.length - 4);
    const body = packet.subarray(headerLength, packet.length - 4 - 16);
    const tag = packet.subarray(packet.length - 4 - 16, packet.length - 4);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAAD(packet.subarray(0, headerLength));
      decipher.setAuthTag(tag);
      let opus = Buffer.concat([decipher.update(body), decipher.final()]);
      if (hasExtension) {
        const words = packet.readUInt16BE(14);
        opus = opus.subarray(words * 4);
      }
      return opus;
    } catch {
      return undefined;
    }
  }

  private hear(ssrc: number, opus: Buffer): void {
    let listener = this.receivers.get(ssrc);
    if (!listener) {
      listener = {
        ssrc,
        lastLoudAt: undefined,
        silences: [],
        decoder: new OpusScript(48_000, 2),
        window: [],
        windowStart: 0,
        segments: [],
      };
      this.receivers.set(ssrc, listener);
    }
    const pcm = listener.decoder.decode(opus);
    const ints = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
    const mono = new Float32Array(ints.length / 2);
    for (let i = 0; i < mono.length; i++) mono[i] = ((ints[i * 2] ?? 0) + (ints[i * 2 + 1] ?? 0)) / 65_536;
    const now = Date.now();
    if (rms(mono) >= SILENCE_RMS) {
      // Packets come every 20 ms; anything much longer without sound is a gap a listener hears.
      if (listener.lastLoudAt !== undefined && now - listener.lastLoudAt > 50) {
        listener.silences.push({ from: listener.lastLoudAt, to: now });
      }
      listener.lastLoudAt = now;
    }
    if (listener.window.length === 0) listener.windowStart = now;
    listener.window.push(mono);
    if (listener.window.length < WINDOW_PACKETS) return;
    const samples = new Float32Array(listener.window.reduce((n, w) => n + w.length, 0));
    let at = 0;
    for (const w of listener.window) {
      samples.set(w, at);
      at += w.length;
    }
    listener.window = [];
    const hz = rms(samples) < SILENCE_RMS ? 0 : dominantFrequency(samples, 48_000, { stepHz: 4 });
    const last = listener.segments.at(-1);
    if (last && Math.abs(last.hz - hz) < 20 && (hz === 0) === (last.hz === 0)) {
      last.to = Date.now();
      last.packets += WINDOW_PACKETS;
    } else {
      listener.segments.push({ hz, from: listener.windowStart, to: Date.now(), packets: WINDOW_PACKETS });
    }
    this.emit('change');
  }
}
