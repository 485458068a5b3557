import {
  escapeMarkdown,
  time,
  TimestampStyles,
  userMention,
  type APIAllowedMentions,
  type APIEmbed,
  type RESTPatchAPIWebhookWithTokenMessageJSONBody,
} from 'discord.js';
import type { Delivery, Job } from '../generation/ports.js';

/** A message edit as data: the JSON body and any files to upload with it. */
export interface MessagePayload {
  body: RESTPatchAPIWebhookWithTokenMessageJSONBody;
  files: { name: string; data: Buffer; contentType: string }[];
}

/** Nothing the bot sends may ping anyone: prompts and names are echoed as they were typed. */
export function noPings(): APIAllowedMentions {
  return { parse: [] };
}

const colors = { working: 0x5865f2, done: 0x57f287, failed: 0xed4245 } as const;
/** Discord's embed description limit, less room for the ellipsis. */
const DESCRIPTION_MAX = 4096;

export function renderProgress(job: Job): MessagePayload {
  const who = userMention(job.origin.userId);
  const length = `${job.request.lengthSeconds}-second track`;
  const content =
    job.phase === 'queued'
      ? `⏳ ${who}'s ${length} is waiting for a free slot in this server: position ${job.queuePosition ?? 1} in line.`
      : `🎼 Generating a ${length} for ${who}, started ${time(Math.floor((job.submittedAt ?? job.createdAt) / 1000), TimestampStyles.RelativeTime)}…`;
  return { body: { content, allowed_mentions: noPings() }, files: [] };
}

export function renderDelivered(job: Job, delivery: Delivery): MessagePayload {
  const embed: APIEmbed = {
    title: '🎵 Track ready',
    description: promptBlock(job.request.prompt),
    color: colors.done,
    fields: [
      { name: 'Length', value: `${job.request.lengthSeconds} s requested`, inline: true },
      { name: 'Requested by', value: userMention(job.origin.userId), inline: true },
    ],
  };
  if (delivery.kind === 'file') {
    return {
      body: {
        content: '',
        embeds: [embed],
        attachments: [{ id: 0, filename: delivery.fileName }],
        allowed_mentions: noPings(),
      },
      files: [{ name: delivery.fileName, data: delivery.data, contentType: 'audio/mpeg' }],
    };
  }
  const size = delivery.sizeBytes === undefined ? 'larger than' : `${mebibytes(delivery.sizeBytes)}, over`;
  embed.fields?.push({
    name: 'Download',
    value: `The file is ${size} this server's ${mebibytes(delivery.limitBytes)} upload limit, so here is a link instead: ${delivery.url}`,
  });
  return { body: { content: '', embeds: [embed], allowed_mentions: noPings() }, files: [] };
}

export function renderFailed(job: Job, userMessage: string): MessagePayload {
  return {
    body: {
      content: '',
      embeds: [
        {
          title: '⚠️ No track this time',
          description: userMessage.slice(0, DESCRIPTION_MAX),
          color: colors.failed,
          fields: [
            { name: 'Prompt', value: clip(escapeMarkdown(job.request.prompt), 1024) },
            { name: 'Requested by', value: userMention(job.origin.userId), inline: true },
          ],
        },
      ],
      allowed_mentions: noPings(),
    },
    files: [],
  };
}

/** A plain-text reply (validation errors, refusals): never pings. */
export function renderNotice(text: string): { content: string; allowedMentions: APIAllowedMentions } {
  return { content: clip(text, 2000), allowedMentions: noPings() };
}

function promptBlock(prompt: string): string {
  return clip(escapeMarkdown(prompt), DESCRIPTION_MAX);
}

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  // Never leave a dangling escape backslash that would swallow the ellipsis.
  if (cut.endsWith('\\')) cut = cut.slice(0, -1);
  return `${cut}…`;
}

function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
}
