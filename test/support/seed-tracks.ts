import type { Db } from '../../src/store/db.js';
import { encodePeaks } from '../../src/audio/waveform.js';

const SEED_PROMPTS = [
  'Warm analog pads with a slow build and brushed drums',
  'Upbeat chiptune for a boss fight, 160 bpm',
  'Lo-fi hip hop with vinyl crackle and a mellow Rhodes',
  'Cinematic strings rising into a triumphant brass finale',
  'Dreamy synthwave at night, gated reverb snare',
  'Acoustic folk guitar and a hummed melody by a campfire',
  'Dark techno with a rolling bassline and metallic percussion',
];

/**
 * Writes delivered tracks straight into the store, as the bot records them, for pages that need
 * many (paging, the 1,000-track gallery bench). Track n is requested n minutes after `start`, by
 * `users[n % users.length]`; every fifth one is a remix of the one before.
 */
export async function seedTracks(
  db: Db,
  options: {
    guildId: string;
    channelId: string;
    users: readonly string[];
    count: number;
    start?: number;
    audioUrl?: string;
  },
): Promise<void> {
  const start = options.start ?? Date.now() - options.count * 60_000;
  const peaks = encodePeaks(Array.from({ length: 160 }, (_, i) => Math.round(128 + 120 * Math.sin(i / 7))));
  const rows = Array.from({ length: options.count }, (_, i) => {
    const n = i + 1;
    const at = start + n * 60_000;
    return {
      id: `seed-${options.guildId}-${n}`,
      guild_id: options.guildId,
      channel_id: options.channelId,
      user_id: options.users[n % options.users.length] ?? '0',
      prompt: SEED_PROMPTS[n % SEED_PROMPTS.length] ?? '',
      length_seconds: 30,
      status: 'completed' as const,
      generation_id: `gen-${n}`,
      credits_used: 120,
      requested_at: at,
      submitted_at: at + 1_000,
      completed_at: at + 40_000,
      kind: n % 5 === 0 ? ('remix' as const) : ('music' as const),
      parent_id: n % 5 === 0 ? `seed-${options.guildId}-${n - 1}` : null,
      track_number: n,
      actual_seconds: 30,
      generation_ms: 39_000,
      delivery: 'attachment via reply',
      reply_message_id: String(1_400_000_000_000_000_000n + BigInt(n)),
    };
  });
  for (let i = 0; i < rows.length; i += 200) {
    const slice = rows.slice(i, i + 200);
    await db.insertInto('usage').values(slice).execute();
    await db
      .insertInto('track_media')
      .values(
        slice.map((row) => ({
          request_id: row.id,
          guild_id: row.guild_id,
          channel_id: row.channel_id,
          message_id: row.reply_message_id,
          audio_url:
            options.audioUrl ??
            `https://cdn.discordapp.com/attachments/${row.channel_id}/${row.reply_message_id}/track.mp3`,
          audio_name: 'track.mp3',
          audio_bytes: 480_000,
          peaks,
          fresh_url: null,
          fresh_until: null,
        })),
      )
      .execute();
  }
}
