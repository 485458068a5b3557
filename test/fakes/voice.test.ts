import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Readable } from 'node:stream';
import {
  AudioPlayerStatus,
  createAudioPlayer,
  createAudioResource,
  entersState,
  joinVoiceChannel,
  StreamType,
  VoiceConnectionStatus,
  type DiscordGatewayAdapterCreator,
} from '@discordjs/voice';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { mp3ToOpus } from '../../src/audio/opus-stream.js';
import { makeMp3, toneHz } from './mp3.js';
import { FakeVoiceServer, VOICE_TLS_CERT } from './voice.js';

const guildId = '100000000000000001';
const botId = '110000000000000001';

let server: FakeVoiceServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/**
 * What a gateway would tell the library, without a gateway: the bot's voice state and the voice
 * server's address, exactly as Discord's two dispatches carry them.
 */
function adapterFor(voice: FakeVoiceServer): DiscordGatewayAdapterCreator {
  return (methods) => ({
    sendPayload(payload: { d?: { channel_id?: string | null } }) {
      if (payload.d?.channel_id) {
        setImmediate(() => {
          methods.onVoiceStateUpdate({
            guild_id: guildId,
            channel_id: payload.d?.channel_id ?? null,
            user_id: botId,
            session_id: 'session',
            deaf: false,
            mute: false,
            self_deaf: true,
            self_mute: false,
            self_video: false,
            suppress: false,
            request_to_speak_timestamp: null,
          });
          methods.onVoiceServerUpdate({
            token: voice.issueToken(guildId, botId),
            guild_id: guildId,
            endpoint: voice.endpoint,
          });
        });
      }
      return true;
    },
    destroy() {},
  });
}

describe('fake voice server', () => {
  it('takes @discordjs/voice through TLS, IP discovery and aead_aes256_gcm_rtpsize, and hears the tone it plays', async () => {
    const voice = (server = await FakeVoiceServer.start());
    const connection = joinVoiceChannel({
      guildId,
      channelId: '100000000000000003',
      adapterCreator: adapterFor(voice),
    });
    await entersState(connection, VoiceConnectionStatus.Ready, 30_000);
    const player = createAudioPlayer();
    connection.subscribe(player);
    const mp3 = makeMp3({ seconds: 1.5, toneLine: 23 });
    player.play(
      createAudioResource(Readable.from(mp3ToOpus([mp3]), { objectMode: true }), {
        inputType: StreamType.Opus,
      }),
    );
    await entersState(player, AudioPlayerStatus.Playing, 30_000);
    await entersState(player, AudioPlayerStatus.Idle, 30_000);
    connection.destroy();

    const [session] = voice.sessions;
    expect(session).toMatchObject({ guildId, userId: botId, mode: 'aead_aes256_gcm_rtpsize' });
    expect(session?.maxDaveProtocolVersion).toBeGreaterThanOrEqual(1);
    expect(session?.speaking).toContain(1);
    expect(voice.decryptFailures).toBe(0);
    const tones = voice.tones(guildId);
    expect(tones).toHaveLength(1);
    expect(Math.abs((tones[0]?.hz ?? 0) - toneHz(23))).toBeLessThan(10);
    // 1.5 s of audio is 75 packets; the 200 ms windows round down.
    expect(tones[0]?.packets).toBeGreaterThanOrEqual(60);
  });

  it('refuses an Identify whose token it never issued (4004) and a client without version 8', async () => {
    const voice = (server = await FakeVoiceServer.start());
    const ca = await import('node:fs').then((fs) => fs.readFileSync(VOICE_TLS_CERT));
    const badToken = new WebSocket(`wss://${voice.endpoint}?v=8`, { ca });
    await once(badToken, 'open');
    badToken.send(
      JSON.stringify({ op: 0, d: { server_id: guildId, user_id: botId, session_id: 's', token: 'nope' } }),
    );
    const [code] = (await once(badToken, 'close')) as [number];
    expect(code).toBe(4004);

    const oldVersion = new WebSocket(`wss://${voice.endpoint}?v=4`, { ca });
    const [oldCode] = (await once(oldVersion, 'close')) as [number];
    expect(oldCode).toBe(4012);
  });

  it('is trusted only through NODE_EXTRA_CA_CERTS: a process without it refuses the certificate', async () => {
    const voice = (server = await FakeVoiceServer.start());
    const run = promisify(execFile);
    const script = `fetch('https://${voice.endpoint}/').then((r) => console.log('status', r.status), (e) => console.log('error', e.cause?.code ?? e.message))`;
    const env = { ...process.env };
    delete env.NODE_EXTRA_CA_CERTS;
    const without = await run(process.execPath, ['-e', script], { env });
    expect(without.stdout).toContain('error DEPTH_ZERO_SELF_SIGNED_CERT');
    const withCert = await run(process.execPath, ['-e', script], {
      env: { ...env, NODE_EXTRA_CA_CERTS: fileURLToPath(VOICE_TLS_CERT) },
    });
    expect(withCert.stdout).toContain('status 426');
  });
});
