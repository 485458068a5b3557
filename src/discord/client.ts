import { Client, Events, GatewayIntentBits, type ClientOptions, type RESTOptions } from 'discord.js';
import type { Logger } from '../log.js';
import { noPings } from './render.js';

export interface DiscordClientOptions {
  apiUrl: string;
  logger: Logger;
  rest?: Partial<RESTOptions>;
  /**
   * Gateway shards this process runs: `auto` asks Discord how many it recommends; a number runs
   * that many, all in this process. Discord requires sharding from 2,500 servers.
   */
  shards?: 'auto' | number;
}

/**
 * The discord.js client. Slash commands arrive as interactions, so no message content or member
 * lists are read: Guilds, plus the non-privileged GuildVoiceStates to know who is in which voice
 * channel (`/listen`).
 */
export function createDiscordClient(options: DiscordClientOptions): Client {
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildVoiceStates],
    ...shardOptions(options.shards),
    rest: { ...options.rest, api: options.apiUrl },
    allowedMentions: noPings(),
  });
  const { logger } = options;
  client.once(Events.ClientReady, (ready) => {
    logger.info({ user: ready.user.tag, guilds: ready.guilds.cache.size }, 'connected to Discord');
  });
  client.on(Events.ShardDisconnect, (event, shardId) => {
    logger.warn({ shardId, code: event.code }, 'gateway disconnected');
  });
  client.on(Events.ShardResume, (shardId) => {
    logger.info({ shardId }, 'gateway resumed');
  });
  client.on(Events.Error, (error) => {
    logger.error({ err: error }, 'discord.js error');
  });
  return client;
}

function shardOptions(shards: 'auto' | number | undefined): Pick<ClientOptions, 'shards' | 'shardCount'> {
  if (shards === undefined) return {};
  if (shards === 'auto') return { shards: 'auto' };
  return { shards: Array.from({ length: shards }, (_, id) => id), shardCount: shards };
}
