import { normalizeBlockedWord } from './policy.js';
import { validateSettingsChange, type GuildSettings, type SettingsChange } from './settings.js';
import type {
  SettingsChangeRecord,
  SettingsRepository,
  SettingsSource,
} from '../store/settings-repository.js';

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

/**
 * The one way settings change, whether from `/music-settings` or the web dashboard: the same
 * validation, the same audit rows (marked with where they came from), and the running bot told at
 * once, so the next `/music` obeys the new values.
 */
export interface SettingsService {
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

export function createSettingsService(deps: {
  repository: SettingsRepository;
  /** Tells the running parts of the bot (the admission gate) that a server's settings changed. */
  changed(guildId: string, settings: GuildSettings): void;
}): SettingsService {
  const { repository } = deps;
  return {
    get: (guildId) => repository.get(guildId),
    blockedWords: (guildId) => repository.blockedWords(guildId),
    recentChanges: (guildId, limit) => repository.recentChanges(guildId, limit),

    async change(guildId, change, actor, now) {
      const problems = validateSettingsChange(await repository.get(guildId), change);
      if (problems.length > 0) return { ok: false, problems };
      const { changes, settings } = await repository.update(guildId, change, actor.userId, now, actor.source);
      deps.changed(guildId, settings);
      return { ok: true, changes, settings };
    },

    async reset(guildId, actor, now) {
      const { changes, settings } = await repository.reset(guildId, actor.userId, now, actor.source);
      deps.changed(guildId, settings);
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
