import {
  ButtonStyle,
  ComponentType,
  escapeMarkdown,
  time,
  TimestampStyles,
  userMention,
  type APIActionRowComponent,
  type APIAllowedMentions,
  type APIButtonComponent,
  type APIEmbed,
  type APIEmbedField,
  type APIMessage,
  type RESTPatchAPIWebhookWithTokenMessageJSONBody,
} from 'discord.js';
import {
  CANCELLABLE_PHASES,
  type Delivery,
  type Job,
  type Lineage,
  type MessageCredit,
  type SongDetails,
} from '../generation/ports.js';
import { submittedAtOf } from '../generation/job.js';
import { encodeCustomId } from './custom-id.js';

/** A message edit as data: the JSON body and any files to upload with it. */
export interface MessagePayload {
  body: RESTPatchAPIWebhookWithTokenMessageJSONBody;
  files: { name: string; data: Buffer; contentType: string }[];
}

/** Nothing the bot sends may ping anyone: prompts and names are echoed as they were typed. */
export function noPings(): APIAllowedMentions {
  return { parse: [] };
}

const colors = { done: 0x57f287, failed: 0xed4245, cancelled: 0x99aab5 } as const;
/** Discord's embed description limit, less room for the ellipsis. */
const DESCRIPTION_MAX = 4096;

/** The buttons on track messages; the labels are the ones members learn, keep them exact. */
const TRACK_ACTIONS = {
  lyrics: { label: 'Lyrics', style: ButtonStyle.Secondary, emoji: '📝' },
  regenerate: { label: 'Regenerate', style: ButtonStyle.Secondary, emoji: '🔁' },
  remix: { label: 'Remix', style: ButtonStyle.Primary, emoji: '🎛️' },
  cancel: { label: 'Cancel', style: ButtonStyle.Secondary, emoji: '✖️' },
  delete: { label: 'Delete', style: ButtonStyle.Danger, emoji: '🗑️' },
} as const;
export type TrackAction = keyof typeof TRACK_ACTIONS;

export function trackButtons(
  requestId: string,
  actions: readonly TrackAction[],
): APIActionRowComponent<APIButtonComponent>[] {
  if (actions.length === 0) return [];
  return [
    {
      type: ComponentType.ActionRow,
      components: actions.map((action) => ({
        type: ComponentType.Button,
        style: TRACK_ACTIONS[action].style,
        label: TRACK_ACTIONS[action].label,
        emoji: { name: TRACK_ACTIONS[action].emoji },
        custom_id: encodeCustomId('track', action, requestId),
      })),
    },
  ];
}

/** Queues the track where the bot listens in voice (`commands/listen.ts`). */
function playInVoiceButton(requestId: string): APIButtonComponent {
  return {
    type: ComponentType.Button,
    style: ButtonStyle.Success,
    label: 'Play in voice',
    emoji: { name: '🔊' },
    custom_id: encodeCustomId('voice', 'play', requestId),
  };
}

/** "#42", or a plain phrase for a parent that never got a number. */
export function trackRef(trackNumber: number | null | undefined): string {
  return trackNumber === null || trackNumber === undefined ? 'an earlier request' : `#${trackNumber}`;
}

/** What a track that builds on another is called. */
const KIND_WORDS: Record<Lineage['kind'], string> = { remix: 'remix', regenerate: 'new take' };

/** "remix of #42", or "new take of an earlier request". */
function buildsOn(lineage: { kind: Lineage['kind']; parentNumber?: number | null | undefined }): string {
  return `${KIND_WORDS[lineage.kind]} of ${trackRef(lineage.parentNumber)}`;
}

/** "Remix of #42 by @A": credits the person the track builds on. */
export function lineageText(lineage: {
  kind: Lineage['kind'];
  parentNumber?: number | null | undefined;
  parentUserId: string;
}): string {
  const text = `${buildsOn(lineage)} by ${userMention(lineage.parentUserId)}`;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** "30-second track", or "30-second remix of #42". */
function describeJob(job: Job): string {
  const length = `${job.request.lengthSeconds}-second`;
  return job.lineage ? `${length} ${buildsOn(job.lineage)}` : `${length} track`;
}

export function renderProgress(job: Job): MessagePayload {
  const who = userMention(job.origin.userId);
  const what = describeJob(job);
  let content: string;
  switch (job.phase) {
    case 'queued':
      content = `⏳ ${who}'s ${what} is waiting in line: position ${job.queuePosition ?? 1}.`;
      break;
    case 'downloading':
    case 'delivering':
      content = `📥 ${who}'s ${what} is ready; fetching the file…`;
      break;
    default:
      content = `🎼 Generating a ${what} for ${who}, started ${time(Math.floor((submittedAtOf(job.state) ?? job.createdAt) / 1000), TimestampStyles.RelativeTime)}…`;
  }
  return {
    body: {
      content,
      components: trackButtons(job.id, CANCELLABLE_PHASES.includes(job.phase) ? ['cancel'] : []),
      allowed_mentions: noPings(),
    },
    files: [],
  };
}

/**
 * Whether a message is this job's delivered track: only a delivered track carries Remix. Read after
 * a worker died mid-delivery, so the track is not sent twice.
 */
export function carriesTrack(message: Pick<APIMessage, 'components'>, jobId: string): boolean {
  const remix = encodeCustomId('track', 'remix', jobId);
  return (message.components ?? []).some(
    (row) => 'components' in row && row.components.some((c) => 'custom_id' in c && c.custom_id === remix),
  );
}

/** "Lyrics from a message by @ben · [message](…)": a name, not a mention, so nobody is pinged. */
export function creditText(credit: MessageCredit): string {
  const url = `https://discord.com/channels/${credit.guildId}/${credit.channelId}/${credit.messageId}`;
  return `Lyrics from a message by @${escapeMarkdown(credit.authorName)} · [message](${url})`;
}

/** How the card words a vocals choice. */
export function vocalsLabel(vocals: NonNullable<SongDetails['vocals']>): string {
  return vocals === 'instrumental' ? 'Instrumental (no vocals)' : 'With vocals';
}

/** The card's lines for what the member chose beyond the prompt. */
export function songFields(song: SongDetails | undefined): APIEmbedField[] {
  if (!song) return [];
  const fields: APIEmbedField[] = [];
  if (song.style !== undefined)
    fields.push({ name: 'Style', value: clip(escapeMarkdown(song.style), 1024), inline: true });
  if (song.vocals !== undefined)
    fields.push({ name: 'Vocals', value: vocalsLabel(song.vocals), inline: true });
  if (song.prefsApplied !== undefined)
    fields.push({ name: 'Your defaults', value: clip(escapeMarkdown(song.prefsApplied), 1024) });
  if (song.credit !== undefined) fields.push({ name: 'Lyrics', value: clip(creditText(song.credit), 1024) });
  return fields;
}

/**
 * The delivered card's buttons: the track's own actions on the first row, and a second row for
 * what shows more of it (Lyrics; the voice issue's "Play in voice" joins it there).
 */
function deliveredButtons(job: Job): APIActionRowComponent<APIButtonComponent>[] {
  // The second row shows more of the track: its words, and playing it in voice.
  const more = trackButtons(job.id, job.song?.hasLyrics ? ['lyrics'] : []).flatMap((row) => row.components);
  return [
    ...trackButtons(job.id, ['regenerate', 'remix', 'delete']),
    { type: ComponentType.ActionRow, components: [...more, playInVoiceButton(job.id)] },
  ];
}

/** The waveform's file name on the track message; the embed shows it as its image. */
const WAVEFORM_FILE = 'waveform.png';

/**
 * The track's card with its file (or a link when the file could not be uploaded). The waveform
 * picture is not in it: that follows in its own edit (`renderWaveform`), so that the member never
 * waits for the drawing to hear the track.
 */
export function renderDelivered(job: Job, delivery: Delivery): MessagePayload {
  const embed = deliveredEmbed(job);
  const components = deliveredButtons(job);
  if (delivery.kind === 'file') {
    return {
      body: {
        content: '',
        embeds: [embed],
        components,
        attachments: [{ id: 0, filename: delivery.fileName }],
        allowed_mentions: noPings(),
      },
      files: [{ name: delivery.fileName, data: delivery.data, contentType: 'audio/mpeg' }],
    };
  }
  const size = delivery.sizeBytes === undefined ? 'larger than' : `${mebibytes(delivery.sizeBytes)}, over`;
  embed.fields?.push({
    name: 'Download',
    value:
      delivery.because === 'too-large'
        ? `The file is ${size} this server's ${mebibytes(delivery.limitBytes)} upload limit, so here is a link instead: ${delivery.url}`
        : `Discord would not take the upload, so here is a link instead: ${delivery.url}`,
  });
  return { body: { content: '', embeds: [embed], components, allowed_mentions: noPings() }, files: [] };
}

/**
 * The edit that adds the waveform to a delivered card: the same embed with the picture as its image,
 * keeping the attachments already on the message (`keep`, by ID) and adding the PNG. Content and
 * buttons are left as they are.
 */
export function renderWaveform(job: Job, keep: readonly string[], picture: Buffer): MessagePayload {
  const embed = deliveredEmbed(job);
  embed.image = { url: `attachment://${WAVEFORM_FILE}` };
  return {
    body: {
      embeds: [embed],
      attachments: [...keep.map((id) => ({ id })), { id: 0, filename: WAVEFORM_FILE }],
      allowed_mentions: noPings(),
    },
    files: [{ name: WAVEFORM_FILE, data: picture, contentType: 'image/png' }],
  };
}

function deliveredEmbed(job: Job): APIEmbed {
  const fields: APIEmbedField[] = [
    { name: 'Requested by', value: userMention(job.origin.userId), inline: true },
    { name: 'Length', value: lengthText(job.request.lengthSeconds, job.actualSeconds), inline: true },
  ];
  if (job.generationMs !== undefined) {
    fields.push({ name: 'Generated in', value: duration(job.generationMs), inline: true });
  }
  if (job.creditsUsed !== undefined) {
    fields.push({ name: 'Credits', value: job.creditsUsed.toLocaleString('en-US'), inline: true });
  }
  if (job.lineage) fields.push({ name: 'Builds on', value: lineageText(job.lineage) });
  fields.push(...songFields(job.song));
  return {
    title: job.trackNumber === undefined ? '🎵 Track ready' : `🎵 Track #${job.trackNumber}`,
    description: promptBlock(job.request.prompt),
    color: colors.done,
    fields,
  };
}

export function renderFailed(job: Job, userMessage: string): MessagePayload {
  return endedWithoutTrack(job, '⚠️ No track this time', userMessage, colors.failed);
}

export function renderCancelled(job: Job): MessagePayload {
  const by = job.cancelledBy ?? job.origin.userId;
  return endedWithoutTrack(
    job,
    '⏹️ Cancelled',
    `${userMention(by)} cancelled this ${describeJob(job)}.`,
    colors.cancelled,
  );
}

/** A failure or a cancellation: what was asked, by whom, and a Regenerate button to try again. */
function endedWithoutTrack(job: Job, title: string, text: string, color: number): MessagePayload {
  const fields: APIEmbedField[] = [
    { name: 'Prompt', value: clip(escapeMarkdown(job.request.prompt), 1024) },
    { name: 'Requested by', value: userMention(job.origin.userId), inline: true },
  ];
  if (job.lineage) fields.push({ name: 'Builds on', value: lineageText(job.lineage), inline: true });
  return {
    body: {
      content: '',
      embeds: [{ title, description: text.slice(0, DESCRIPTION_MAX), color, fields }],
      components: trackButtons(job.id, ['regenerate']),
      allowed_mentions: noPings(),
    },
    files: [],
  };
}

/** "30 s requested · 29.8 s actual". */
export function lengthText(requested: number, actual: number | null | undefined): string {
  const base = `${requested} s requested`;
  return actual === null || actual === undefined ? base : `${base} · ${actual.toFixed(1)} s actual`;
}

/** "4.2 s", "41 s", "2 min 5 s". */
export function duration(ms: number): string {
  if (ms < 9_950) return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const rest = seconds % 60;
  return `${Math.floor(seconds / 60)} min${rest === 0 ? '' : ` ${rest} s`}`;
}

/** A plain-text reply (validation errors, refusals): never pings. */
export function renderNotice(text: string): { content: string; allowedMentions: APIAllowedMentions } {
  return { content: clip(text, 2000), allowedMentions: noPings() };
}

export function promptBlock(prompt: string): string {
  return clip(escapeMarkdown(prompt), DESCRIPTION_MAX);
}

export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  // Never leave a dangling escape backslash that would swallow the ellipsis.
  if (cut.endsWith('\\')) cut = cut.slice(0, -1);
  return `${cut}…`;
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
}
