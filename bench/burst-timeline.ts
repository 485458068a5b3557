import { subscribe } from 'node:diagnostics_channel';
import { Events, type Client } from 'discord.js';

/**
 * A burst as the bot's (or the floor's) own process saw it, in ms from the first interaction of
 * the burst reaching it: when the last one arrived, and when the first and last acknowledgements
 * left it (undici writing the callback's request). The ack bench's latencies end where the fake
 * Discord has read each callback; the gap between the two is the fake's own work and the
 * loopback, which the floor and the bot share.
 */
export interface BurstTimeline {
  lastInteractionInMs: number;
  firstAckOutMs: number;
  lastAckOutMs: number;
}

/** Records a process's interactions in and acknowledgements out, from `reset()` on. */
export class TimelineRecorder {
  private received: number[] = [];
  private sent: number[] = [];

  constructor(client: Client) {
    client.on(Events.Raw, (packet: { t?: unknown }) => {
      if (packet.t === 'INTERACTION_CREATE') this.received.push(performance.now());
    });
    // undici's own diagnostics: published by the copy @discordjs/rest uses, when a request's
    // headers are written to the socket.
    subscribe('undici:client:sendHeaders', (message) => {
      const path = (message as { request?: { path?: unknown } }).request?.path;
      if (typeof path === 'string' && path.includes('/interactions/') && path.includes('/callback')) {
        this.sent.push(performance.now());
      }
    });
  }

  reset(): void {
    this.received = [];
    this.sent = [];
  }

  read(): BurstTimeline {
    const start = this.received[0] ?? 0;
    const since = (times: number[], pick: (values: number[]) => number | undefined) =>
      Math.round(((pick(times) ?? start) - start) * 10) / 10;
    return {
      lastInteractionInMs: since(this.received, (t) => t.at(-1)),
      firstAckOutMs: since(this.sent, (t) => t[0]),
      lastAckOutMs: since(this.sent, (t) => t.at(-1)),
    };
  }
}
