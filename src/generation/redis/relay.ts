import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../../log.js';
import type { DeliveredTrack, DeliveryRelay } from '../ports.js';

/**
 * With split roles a worker delivers the track while the gateway holds the voice connections, so
 * each delivery is published on a Redis channel that the gateways listen to. Pub/sub is enough: a
 * gateway that is down has no voice connection to play it on, and on its restart the queue in the
 * store is what carries on.
 */
export const deliveredChannel = (prefix: string): string => `${prefix}:voice:delivered`;

const snowflake = z.string().regex(/^\d{17,20}$/);
const message = z.object({ guildId: snowflake, trackId: z.string().min(1).max(64), userId: snowflake });

export function createRedisRelay(redis: Redis, channel: string, logger: Logger): DeliveryRelay {
  return {
    async publish(track) {
      await redis.publish(channel, JSON.stringify(track));
    },
    /** Listens on its own connection (a subscribed Redis connection can do nothing else). */
    async subscribe(onTrack: (track: DeliveredTrack) => Promise<void>) {
      const subscriber = redis.duplicate();
      subscriber.on('error', (error) => logger.warn({ err: error }, 'voice relay: Redis error'));
      subscriber.on('message', (from: string, raw: string) => {
        if (from !== channel) return;
        let parsed: z.infer<typeof message>;
        try {
          parsed = message.parse(JSON.parse(raw));
        } catch {
          logger.warn('voice relay: ignored a malformed message');
          return;
        }
        onTrack(parsed).catch((error: unknown) =>
          logger.warn({ err: error, trackId: parsed.trackId }, 'voice relay: could not queue a track'),
        );
      });
      await subscriber.subscribe(channel);
      return async () => {
        await subscriber.quit().catch(() => subscriber.disconnect());
      };
    },
  };
}
