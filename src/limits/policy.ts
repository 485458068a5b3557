import type { GuildSettings } from '../domain/settings.js';
import { nextUtcMidnight, nextUtcMonth, relativeTime } from './time.js';

/** What the store knows about a server's and a member's recent use, as the policy needs it. */
export interface UsageSnapshot {
  userToday: number;
  guildToday: number;
  guildCreditsThisMonth: number;
  userLastRequestAt: number | null;
  guildInFlight: number;
}

export type LimitName =
  'blocked-word' | 'max-length' | 'cooldown' | 'user-daily' | 'guild-daily' | 'monthly-credits';

export type Decision =
  | { allowed: true; /** The server is at `concurrent`: the request waits in line. */ queued: boolean }
  | { allowed: false; limit: LimitName; message: string; resetsAt?: number };

export interface RequestCheck {
  settings: GuildSettings;
  usage: UsageSnapshot;
  request: { prompt: string; lengthSeconds: number };
  memberRoleIds: readonly string[];
  blockedWords: readonly string[];
  now: number;
}

/**
 * Decides whether a request may go ahead. Pure: the caller reads the numbers and writes the
 * reservation in one transaction around it. Checks run from the cheapest for the member to fix
 * (reword, shorten) to the ones only time fixes.
 */
export function checkRequest({
  settings,
  usage,
  request,
  memberRoleIds,
  blockedWords,
  now,
}: RequestCheck): Decision {
  const blocked = matchBlockedWord(request.prompt, blockedWords);
  if (blocked !== undefined) {
    return {
      allowed: false,
      limit: 'blocked-word',
      message: `This server does not allow the word "${blocked}" in prompts. Reword the prompt and try again.`,
    };
  }
  if (request.lengthSeconds > settings.maxLengthSeconds) {
    return {
      allowed: false,
      limit: 'max-length',
      message: `This server allows tracks of up to ${settings.maxLengthSeconds} seconds; you asked for ${request.lengthSeconds}.`,
    };
  }

  const exempt = settings.exemptRoleId !== null && memberRoleIds.includes(settings.exemptRoleId);
  if (!exempt && settings.cooldownSeconds > 0 && usage.userLastRequestAt !== null) {
    const readyAt = usage.userLastRequestAt + settings.cooldownSeconds * 1000;
    if (now < readyAt) {
      return {
        allowed: false,
        limit: 'cooldown',
        message: `This server has a ${settings.cooldownSeconds}-second cooldown between requests; you can ask again ${relativeTime(readyAt)}.`,
        resetsAt: readyAt,
      };
    }
  }
  if (!exempt && settings.userDaily !== null && usage.userToday >= settings.userDaily) {
    const resetsAt = nextUtcMidnight(now);
    return {
      allowed: false,
      limit: 'user-daily',
      message: `You have used all ${settings.userDaily} of your tracks for today on this server; the count resets ${relativeTime(resetsAt)}.`,
      resetsAt,
    };
  }
  if (settings.guildDaily !== null && usage.guildToday >= settings.guildDaily) {
    const resetsAt = nextUtcMidnight(now);
    return {
      allowed: false,
      limit: 'guild-daily',
      message: `This server has used all ${settings.guildDaily} of its tracks for today; the count resets ${relativeTime(resetsAt)}.`,
      resetsAt,
    };
  }
  if (settings.monthlyCredits !== null && usage.guildCreditsThisMonth >= settings.monthlyCredits) {
    const resetsAt = nextUtcMonth(now);
    return {
      allowed: false,
      limit: 'monthly-credits',
      message: `This server has spent its ${settings.monthlyCredits.toLocaleString('en-US')} credits for this month; they renew ${relativeTime(resetsAt)}.`,
      resetsAt,
    };
  }
  return { allowed: true, queued: usage.guildInFlight >= settings.concurrent };
}

/** Lower case without accents, so "Café", "CAFE" and "cafe" are one word. */
export function foldText(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase();
}

/** The first blocked word or phrase found in the prompt as a whole word, or undefined. */
export function matchBlockedWord(prompt: string, words: readonly string[]): string | undefined {
  const folded = foldText(prompt);
  return words.find((word) => {
    const needle = foldText(word).trim();
    if (needle === '') return false;
    const escaped = needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
    return new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'u').test(folded);
  });
}

export type WordCheck = { ok: true; word: string } | { ok: false; problem: string };

/** A blocked word as stored: folded, trimmed, single-spaced, 1 to 50 characters. */
export function normalizeBlockedWord(input: unknown): WordCheck {
  const word = typeof input === 'string' ? foldText(input).trim().replace(/\s+/g, ' ') : '';
  if (word === '')
    return { ok: false, problem: 'The word is empty. Give a word or short phrase of up to 50 characters.' };
  if (word.length > 50)
    return { ok: false, problem: `The word is ${word.length} characters; the limit is 50.` };
  return { ok: true, word };
}

/** What a lyrics draft is checked against: its own daily allowance, and the server's credit budget. */
export interface DraftCheck {
  settings: GuildSettings;
  /** The member's drafts today that counted (failed ones gave their allowance back). */
  userDraftsToday: number;
  guildCreditsThisMonth: number;
  /** The idea and the style as typed: blocked words are refused before any model call. */
  text: string;
  memberRoleIds: readonly string[];
  blockedWords: readonly string[];
  now: number;
}

export type DraftDecision =
  | { allowed: true }
  | { allowed: false; limit: 'blocked-word' | 'lyrics-daily' | 'monthly-credits'; message: string };

/** Whether a member may have a lyrics draft now. Pure, like `checkRequest`. */
export function checkDraft(check: DraftCheck): DraftDecision {
  const blocked = matchBlockedWord(check.text, check.blockedWords);
  if (blocked !== undefined) {
    return {
      allowed: false,
      limit: 'blocked-word',
      message: `This server does not allow the word "${blocked}". Reword your idea and try again.`,
    };
  }
  const { settings } = check;
  const exempt = settings.exemptRoleId !== null && check.memberRoleIds.includes(settings.exemptRoleId);
  if (!exempt && settings.lyricsDaily !== null && check.userDraftsToday >= settings.lyricsDaily) {
    return {
      allowed: false,
      limit: 'lyrics-daily',
      message: `You have used all ${settings.lyricsDaily} of your lyrics drafts for today on this server; the count resets ${relativeTime(nextUtcMidnight(check.now))}.`,
    };
  }
  if (settings.monthlyCredits !== null && check.guildCreditsThisMonth >= settings.monthlyCredits) {
    return {
      allowed: false,
      limit: 'monthly-credits',
      message: `This server has spent its ${settings.monthlyCredits.toLocaleString('en-US')} credits for this month; they renew ${relativeTime(nextUtcMonth(check.now))}.`,
    };
  }
  return { allowed: true };
}
