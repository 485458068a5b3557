import {
  ButtonStyle,
  ComponentType,
  escapeMarkdown,
  time,
  TimestampStyles,
  userMention,
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
  type APIEmbedField,
} from 'discord.js';
import { songDetailsOf } from '../domain/song.js';
import type { TrackRecord } from '../domain/track.js';
import type { TrackListing } from '../store/tracks-repository.js';
import { encodeCustomId } from './custom-id.js';
import { clip, creditText, duration, lengthText, lineageText, noPings, promptBlock } from './render.js';

/** "lyrics from a message by @ben", for a one-line listing. */
function creditWords(track: TrackRecord): string | undefined {
  const credit = songDetailsOf(track)?.credit;
  return credit && `lyrics from a message by @${escapeMarkdown(credit.authorName)}`;
}

export const TRACKS_PAGE_SIZE = 10;

/** A message for the interaction reply and update routes: never pings. */
export interface TracksView {
  content: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIButtonComponent>[];
  allowedMentions: ReturnType<typeof noPings>;
}

function messageLink(guildId: string, channelId: string, messageId: string): string {
  return `https://discord.com/channels/${guildId}/${channelId}/${messageId}`;
}

/** One page of the server's tracks, newest first, with their lineage and a link to each. */
export function renderTrackPage(input: { page: number; total: number; tracks: TrackListing[] }): TracksView {
  const pages = Math.max(1, Math.ceil(input.total / TRACKS_PAGE_SIZE));
  if (input.total === 0) {
    return {
      content: 'No tracks in this server yet. Make the first with `/music` or `/compose`.',
      embeds: [],
      components: [],
      allowedMentions: noPings(),
    };
  }
  const lines = input.tracks.map(({ track, parent }) => {
    const parts = [
      `**#${track.trackNumber ?? '?'}**`,
      `${track.lengthSeconds} s`,
      userMention(track.userId),
      `“${clip(escapeMarkdown(oneLine(track.prompt)), 60)}”`,
    ];
    if (parent) {
      parts.push(
        lineageText({ kind: kindOf(track), parentNumber: parent.trackNumber, parentUserId: parent.userId }),
      );
    }
    const credit = creditWords(track);
    if (credit !== undefined) parts.push(credit);
    parts.push(whereItIs(track));
    return parts.join(' · ');
  });
  return {
    content: '',
    embeds: [
      {
        title: 'Recent tracks',
        description: lines.join('\n'),
        footer: { text: `Page ${input.page + 1} of ${pages} · ${input.total} tracks` },
      },
    ],
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          pageButton('newer', 'Newer', input.page - 1, input.page === 0),
          pageButton('older', 'Older', input.page + 1, input.page >= pages - 1),
        ],
      },
    ],
    allowedMentions: noPings(),
  };
}

/** One track in full: what was asked, what came out, where it came from and what grew from it. */
export function renderTrackDetails(input: {
  listing: TrackListing;
  ancestors: TrackRecord[];
  children: TrackRecord[];
}): TracksView {
  const { track } = input.listing;
  const fields: APIEmbedField[] = [
    { name: 'Requested by', value: userMention(track.userId), inline: true },
    { name: 'Length', value: lengthText(track.lengthSeconds, track.actualSeconds), inline: true },
    {
      name: 'Made',
      value: time(Math.floor(track.requestedAt / 1000), TimestampStyles.RelativeTime),
      inline: true,
    },
  ];
  if (track.generationMs !== null) {
    fields.push({ name: 'Generated in', value: duration(track.generationMs), inline: true });
  }
  if (track.creditsUsed !== null) {
    fields.push({ name: 'Credits', value: track.creditsUsed.toLocaleString('en-US'), inline: true });
  }
  // The chain upwards: each step names the track it builds on and who made that one.
  const chain = [track, ...input.ancestors];
  const steps = chain.slice(0, -1).flatMap((child, i) => {
    const parent = chain[i + 1];
    if (!parent) return [];
    const step = lineageText({
      kind: kindOf(child),
      parentNumber: parent.trackNumber,
      parentUserId: parent.userId,
    });
    // Where the words came from travels with the lineage: a remix still owes its lyrics.
    const credit = songDetailsOf(parent)?.credit;
    return [credit === undefined ? step : `${step} (${lowerFirst(creditText(credit))})`];
  });
  if (steps.length > 0) fields.push({ name: 'Builds on', value: clip(steps.join('\n↳ '), 1024) });
  if (input.children.length > 0) {
    const grown = input.children.map(
      (child) =>
        `#${child.trackNumber ?? '?'} (${child.kind === 'remix' ? 'remix' : 'new take'} by ${userMention(child.userId)})`,
    );
    fields.push({ name: 'Remixes and new takes', value: clip(grown.join(', '), 1024) });
  }
  const song = songDetailsOf(track);
  if (song?.style !== undefined)
    fields.push({ name: 'Style', value: clip(escapeMarkdown(song.style), 1024), inline: true });
  if (song?.credit !== undefined) fields.push({ name: 'Lyrics', value: clip(creditText(song.credit), 1024) });
  fields.push({ name: 'Message', value: whereItIs(track) });
  return {
    content: '',
    embeds: [
      {
        title: `🎵 Track #${track.trackNumber ?? '?'}`,
        description: promptBlock(track.prompt),
        fields,
      },
    ],
    components: [],
    allowedMentions: noPings(),
  };
}

function whereItIs(track: TrackRecord): string {
  if (track.deletedAt !== null) {
    const by = track.deletedBy === null ? '' : ` by ${userMention(track.deletedBy)}`;
    return `deleted${by} ${time(Math.floor(track.deletedAt / 1000), TimestampStyles.RelativeTime)}`;
  }
  return track.replyMessageId === null
    ? 'no message recorded'
    : `[open](${messageLink(track.guildId, track.channelId, track.replyMessageId)})`;
}

function kindOf(track: TrackRecord): 'remix' | 'regenerate' {
  return track.kind === 'remix' ? 'remix' : 'regenerate';
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function pageButton(action: string, label: string, page: number, disabled: boolean): APIButtonComponent {
  return {
    type: ComponentType.Button,
    style: ButtonStyle.Secondary,
    label,
    custom_id: encodeCustomId('tracks', action, Math.max(0, page)),
    disabled,
  };
}
