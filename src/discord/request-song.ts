import type { MessageCredit } from '../generation/ports.js';
import { assembleSong, parseVocals, validateStyle } from '../songwriting/prompt.js';
import type { CommandContext } from './command.js';
import { replyPrivately } from './reply.js';
import { requestTrack, type TrackInteraction } from './request-track.js';

/** A new song as the member asked for it: every value as received, validated here. */
export interface SongAsk {
  kind: 'music' | 'compose';
  /** /music's prompt (a description, or lyrics when a style is chosen). */
  prompt?: unknown;
  /** /music's style option, or the compose form's style. */
  style?: unknown;
  /** The compose form's lyrics. */
  lyrics?: unknown;
  /** `instrumental` (boolean) or the form's "vocals"/"instrumental". */
  vocals?: unknown;
  length: unknown;
  credit?: MessageCredit;
}

/**
 * /music, the compose form and the message command: applies the member's personal defaults within
 * the server's limits, assembles the provider prompt, and hands it to `requestTrack`. Returns the
 * problems instead of answering when the input cannot make a prompt, so the caller can hand the
 * member's text back.
 */
export async function requestSong(
  interaction: TrackInteraction,
  context: CommandContext,
  ask: SongAsk,
): Promise<string[] | undefined> {
  if (!interaction.inGuild()) {
    await replyPrivately(interaction, 'Tracks can only be made in a server channel.');
    return undefined;
  }
  const vocals = parseVocals(ask.vocals);
  const style =
    ask.kind === 'music' ? validateStyle(ask.style) : { ok: true as const, value: text(ask.style) };
  const problems = [...(vocals.ok ? [] : vocals.problems), ...(style.ok ? [] : style.problems)];
  if (!vocals.ok || !style.ok) return problems;

  const musicPrompt = text(ask.prompt);
  if (ask.kind === 'music' && !musicPrompt?.trim()) {
    // Nothing to build on (and nothing to read the member's defaults for): validation answers for the prompt as received.
    await requestTrack(interaction, context, { prompt: ask.prompt, length: ask.length, kind: ask.kind });
    return undefined;
  }

  const prefs = await context.songwriting.prefs(interaction.guildId, interaction.user.id);
  const applied: string[] = [];
  let length = ask.length;
  if ((length === undefined || length === null) && prefs.lengthSeconds !== null) {
    // A default longer than the server now allows is cut to its maximum, not refused. (Settings are
    // read only here: most requests carry no default length, and every query delays the answer.)
    const settings = await context.settings.get(interaction.guildId);
    length = Math.min(prefs.lengthSeconds, settings.maxLengthSeconds);
    applied.push(
      length === prefs.lengthSeconds
        ? `length ${prefs.lengthSeconds} s`
        : `length ${prefs.lengthSeconds} s, capped to ${settings.maxLengthSeconds} s by this server`,
    );
  }
  let chosen = vocals.value;
  if (chosen === undefined && prefs.vocals !== null) {
    chosen = prefs.vocals;
    applied.push(prefs.vocals);
  }
  if (prefs.styleSuffix !== null) applied.push(`style suffix “${prefs.styleSuffix}”`);

  const song = assembleSong({
    style: style.value,
    ...(ask.kind === 'music'
      ? style.value === undefined
        ? { description: musicPrompt }
        : { lyrics: musicPrompt }
      : { lyrics: text(ask.lyrics) }),
    vocals: chosen,
    suffix: prefs.styleSuffix ?? undefined,
  });
  if (!song.ok) return song.problems;
  // Untouched, the prompt goes on as received so that its own validation names any problem.
  const untouched = ask.kind === 'music' && song.value.prompt === musicPrompt;
  await requestTrack(interaction, context, {
    prompt: untouched ? ask.prompt : song.value.prompt,
    length,
    kind: ask.kind,
    song: {
      style: song.value.style,
      lyrics: song.value.lyrics,
      vocals: chosen,
      prefsApplied: applied.length === 0 ? undefined : applied.join(' · '),
      credit: ask.credit,
    },
  });
  return undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
