import {
  ButtonStyle,
  ComponentType,
  escapeMarkdown,
  userMention,
  type APIActionRowComponent,
  type APIButtonComponent,
  type APIEmbed,
} from 'discord.js';
import { encodeCustomId } from './custom-id.js';
import { clip, noPings } from './render.js';

export interface DraftView {
  content: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIButtonComponent>[];
  allowedMentions: ReturnType<typeof noPings>;
}

/** A lyrics draft as posted: the lyrics whole, what it was asked from, and the two buttons. */
export function renderDraft(draft: {
  id: string;
  userId: string;
  idea: string;
  style: string | null;
  lyrics: string;
  shortened: boolean;
}): DraftView {
  const fields = [
    { name: 'Idea', value: clip(escapeMarkdown(draft.idea), 1024) },
    ...(draft.style === null
      ? []
      : [{ name: 'Style', value: clip(escapeMarkdown(draft.style), 1024), inline: true }]),
    { name: 'Drafted for', value: userMention(draft.userId), inline: true },
  ];
  return {
    content: '',
    embeds: [
      {
        title: '📝 Lyrics draft',
        // Lyrics fit the provider's 2,000-character prompt, so the description's 4,096 holds them whole.
        description: escapeMarkdown(draft.lyrics),
        fields,
        ...(draft.shortened ? { footer: { text: 'Shortened to whole lines so it fits one prompt.' } } : {}),
      },
    ],
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.Button,
            style: ButtonStyle.Primary,
            label: 'Make this song',
            emoji: { name: '🎵' },
            custom_id: encodeCustomId('lyrics', 'make', draft.id),
          },
          {
            type: ComponentType.Button,
            style: ButtonStyle.Secondary,
            label: 'Redraft',
            emoji: { name: '🔁' },
            custom_id: encodeCustomId('lyrics', 'redraft', draft.id),
          },
        ],
      },
    ],
    allowedMentions: noPings(),
  };
}

/** A track's lyrics, shown only to the member who asked. */
export function renderTrackLyrics(trackNumber: number | null, lyrics: string): { embeds: APIEmbed[] } {
  return {
    embeds: [
      {
        title: trackNumber === null ? 'Lyrics' : `Lyrics of track #${trackNumber}`,
        description: clip(escapeMarkdown(lyrics), 4096),
      },
    ],
  };
}
