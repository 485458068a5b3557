import { normalizeBlockedWord } from './policy.js';
import {
  validateSettingsChange,
  type GuildSettings,
  type SettingsChange,
  type SettingsChangeRecord,
  type SettingsSource,
} from '../domain/settings.js';
import type { SettingsRepository } from '../store/settings-repository.js';

/** Who is changing a setting, and from where: both go into the audit trail. */
export interface SettingsActor {
  userId: string;
  source: SettingsSource;
}

export type SettingsOutcome =
  { ok: false; problems: string[] } | { ok: true; changes: SettingsChangeRecord[]; settings: GuildSettings };

export type BlockedWordOutcome =
  | { ok: false; problem: string }
  | { ok: true; word: string; /** false when it was already so */ changed: boolean };

/** Told of every change that was stored, with the settings it left in force. */
export type SettingsListener = (guildId: string, settings: GuildSettings) => void;

/**
 * The one way settings change, whether from `/music-settings` or the web dashboard: the same
 * validation, the same audit rows (marked with where they came from), and every listener told at
 * once, so the next `/music` obeys the new values. Callers change settings here and nothing more:
 * the running parts of the bot that keep a copy subscribe once with `onChange`.
 */
export interface SettingsService {
  /**
   * Calls `listener` after each stored change or reset, before the caller hears back. Listeners
   * run synchronously and must not throw: the change is already committed. Returns a function
   * that unsubscribes.
   */
  onChange(listener: SettingsListener): () => void;
  get(guildId: string): Promise<GuildSettings>;
  blockedWords(guildId: string): Promise<string[]>;
  recentChanges(guildId: string, limit: number): Promise<SettingsChangeRecord[]>;
  change(
    guildId: string,
    change: SettingsChange,
    actor: SettingsActor,
    now: number,
  ): Promise<SettingsOutcome>;
  reset(guildId: string, actor: SettingsActor, now: number): Promise<SettingsOutcome>;
  /** `word` is the raw value as it arrived (a crafted payload may hold anything). */
  addBlockedWord(
    guildId: string,
    word: unknown,
    actor: SettingsActor,
    now: number,
  ): Promise<BlockedWordOutcome>;
  removeBlockedWord(guildId: string, word: unknown): Promise<BlockedWordOutcome>;
}

export function createSettingsService(deps: { repository: SettingsRepository }): SettingsService {
  const { repository } = deps;
  const listeners = new Set<SettingsListener>();
  const publish = (guildId: string, settings: GuildSettings) => {
    for (const listener of listeners) listener(guildId, settings);
  };
  return {
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get: (guildId) => repository.get(guildId),
    blockedWords: (guildId) => repository.blockedWords(guildId),
    recentChanges: (guildId, limit) => repository.recentChanges(guildId, limit),

    async change(guildId, change, actor, now) {
      const problems = validateSettingsChange(await repository.get(guildId), change);
      if (problems.length > 0) return { ok: false, problems };
      const { changes, settings } = await repository.update(guildId, change, actor.userId, now, actor.source);
      publish(guildId, settings);
      return { ok: true, changes, settings };
    },

    async reset(guildId, actor, now) {
      const { changes, settings } = await repository.reset(guildId, actor.userId, now, actor.source);
      publish(guildId, settings);
      return { ok: true, changes, settings };
    },

    async addBlockedWord(guildId, word, actor, now) {
      const checked = normalizeBlockedWord(word);
      if (!checked.ok) return { ok: false, problem: checked.problem };
      const added = await repository.addBlockedWord(guildId, checked.word, actor.userId, now);
      return { ok: true, word: checked.word, changed: added };
    },

    async removeBlockedWord(guildId, word) {
      const checked = normalizeBlockedWord(word);
      if (!checked.ok) return { ok: false, problem: checked.problem };
      const removed = await repository.removeBlockedWord(guildId, checked.word);
      return { ok: true, word: checked.word, changed: removed };
    },
  };
}
