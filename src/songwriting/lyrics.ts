import type { ChatClient } from '../aiml/chat.js';
import { userMessageOf } from '../errors.js';
import { PROMPT_MAX_CHARS } from '../generation/request.js';
import { matchBlockedWord } from '../limits/policy.js';

/** Room the compose form's heading ("\n\nLyrics:\n") and a vocals line take beside the style. */
const PROMPT_OVERHEAD = 60;
/** Even beside a long style, a draft gets room for a verse and a chorus. */
const MIN_LYRICS_CHARS = 400;
export const IDEA_MAX_CHARS = 500;

export type DraftResult =
  | { kind: 'drafted'; lyrics: string; creditsUsed: number; shortened: boolean }
  /** The model's lyrics hold a blocked word: shown to nobody. */
  | { kind: 'blocked'; word: string; creditsUsed: number }
  /** Credits are what an empty answer still cost; a call that failed cost nothing. */
  | { kind: 'failed'; message: string; creditsUsed?: number };

export interface LyricsWriterOptions {
  chat: ChatClient;
  /** The server's blocked words, read when the draft comes back (they may have changed meanwhile). */
  blockedWords(guildId: string): Promise<string[]>;
  /** Credits a token costs when the provider does not state the charge. */
  creditsPerToken: number;
  /** Told how each draft ended (for metrics). */
  observe?: (outcome: DraftResult['kind']) => void;
}

/** How many characters of lyrics fit in the provider's prompt beside this style. */
export function lyricsBudget(style: string | null): number {
  return Math.max(MIN_LYRICS_CHARS, PROMPT_MAX_CHARS - (style?.length ?? 0) - PROMPT_OVERHEAD);
}

/** The request to the text model: sectioned, original lyrics within the budget. */
function lyricsMessages(idea: string, style: string | null, budget: number) {
  return [
    {
      role: 'system' as const,
      content: [
        'You are a songwriter. Write original song lyrics for the idea you are given.',
        'Label every section on its own line in square brackets, such as [Verse 1], [Chorus], [Verse 2], [Bridge].',
        `Keep the whole text under ${budget} characters.`,
        'Reply with the lyrics only: no title, no notes, no names of real artists, no lines from existing songs.',
      ].join(' '),
    },
    { role: 'user' as const, content: style === null ? `Idea: ${idea}` : `Idea: ${idea}\nStyle: ${style}` },
  ];
}

/**
 * The model's reply as lyrics: fences and surrounding blank lines removed, runs of blank lines
 * made single. Longer than the budget, it keeps whole lines up to it (never half a line).
 */
export function cleanLyrics(text: string, budget: number): { lyrics: string; shortened: boolean } {
  const lines = text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .filter((line) => !/^\s*```/.test(line))
    .map((line) => line.trimEnd());
  const joined = lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  if (joined.length <= budget) return { lyrics: joined, shortened: false };
  const kept: string[] = [];
  let size = 0;
  for (const line of joined.split('\n')) {
    const next = size + line.length + (kept.length === 0 ? 0 : 1);
    if (next > budget) break;
    kept.push(line);
    size = next;
  }
  return { lyrics: kept.join('\n').trim(), shortened: true };
}

/** Writes one draft: exactly one model call (with the client's own retries), then the checks. */
export function createLyricsWriter(options: LyricsWriterOptions) {
  const attempt = async (guildId: string, idea: string, style: string | null): Promise<DraftResult> => {
    const budget = lyricsBudget(style);
    let completion;
    try {
      completion = await options.chat.complete({
        messages: lyricsMessages(idea, style, budget),
        // Lyrics run about three characters a token; the margin lets the model finish a line.
        maxTokens: Math.ceil(budget / 3) + 64,
      });
    } catch (error) {
      return {
        kind: 'failed',
        message: userMessageOf(error, 'The lyrics could not be written just now. Please try again.'),
      };
    }
    const creditsUsed =
      completion.creditsUsed ?? Math.ceil((completion.totalTokens ?? 0) * options.creditsPerToken);
    const { lyrics, shortened } = cleanLyrics(completion.content, budget);
    const blocked = matchBlockedWord(lyrics, await options.blockedWords(guildId));
    if (blocked !== undefined) return { kind: 'blocked', word: blocked, creditsUsed };
    if (lyrics === '') {
      return {
        kind: 'failed',
        message: 'The lyrics service sent back no lyrics. Please try again.',
        creditsUsed,
      };
    }
    return { kind: 'drafted', lyrics, creditsUsed, shortened: shortened || completion.truncated };
  };
  return {
    async write(guildId: string, idea: string, style: string | null): Promise<DraftResult> {
      const result = await attempt(guildId, idea, style);
      options.observe?.(result.kind);
      return result;
    },
  };
}

export type LyricsWriter = ReturnType<typeof createLyricsWriter>;
