import { DEFAULT_SETTINGS, type GuildSettings } from '../domain/settings.js';
import type { SettingsService } from './settings-service.js';

/**
 * Each server's `concurrent` setting, as the in-process admission gate needs it: synchronously,
 * on every admission, without a store read. Everything that learns a server's settings feeds this
 * one copy: settings changes (subscribed once, from the settings service), each reservation (which
 * reads the settings in its transaction anyway), and the servers of resumed jobs at start.
 */
export interface GuildConcurrency {
  /** The server's limit; the default until its settings have been seen. */
  of(guildId: string): number;
  /** Settings read elsewhere (a reservation's), kept so the gate obeys them. */
  seen(guildId: string, settings: Pick<GuildSettings, 'concurrent'>): void;
  /** Reads these servers' settings (those of resumed jobs, at start). */
  load(guildIds: Iterable<string>): Promise<void>;
}

export function followGuildConcurrency(settings: SettingsService): GuildConcurrency {
  const byGuild = new Map<string, number>();
  const seen = (guildId: string, { concurrent }: Pick<GuildSettings, 'concurrent'>) => {
    byGuild.set(guildId, concurrent);
  };
  settings.onChange(seen);
  return {
    of: (guildId) => byGuild.get(guildId) ?? DEFAULT_SETTINGS.concurrent,
    seen,
    async load(guildIds) {
      for (const guildId of new Set(guildIds)) seen(guildId, await settings.get(guildId));
    },
  };
}
