import { channelMention, escapeMarkdown, userMention } from 'discord.js';
import { clip, trackRef } from '../discord/render.js';
import type { LeaveReason, QueueView } from './manager.js';

/** The now-playing line: one message, edited as tracks change. */
export function renderStatus(status: {
  voiceChannelId: string;
  playing: { trackNumber: number | null; requestedBy: string } | undefined;
  upNext: number;
}): string {
  const where = `🎧 Listening in ${channelMention(status.voiceChannelId)}: every new track from this server plays there.`;
  const now = status.playing
    ? `▶️ Now playing: track ${trackRef(status.playing.trackNumber)}, asked for by ${userMention(status.playing.requestedBy)}.`
    : '⏸️ Waiting for the next track.';
  const next = status.upNext === 0 ? '' : ` Up next: ${status.upNext} track${status.upNext > 1 ? 's' : ''}.`;
  return `${where}\n${now}${next}`;
}

const LEFT_BECAUSE: Record<LeaveReason, string> = {
  stopped: 'listening was stopped',
  alone: 'no one else was in the channel for a minute',
  idle: 'nothing was queued for ten minutes',
  disconnected: 'the bot was disconnected from the channel',
};

export function renderLeft(voiceChannelId: string, reason: LeaveReason): string {
  return `👋 Left ${channelMention(voiceChannelId)}: ${LEFT_BECAUSE[reason]}. \`/listen start\` starts again.`;
}

/** `/listen queue`: what plays now and what comes next, with who asked. */
export function renderQueue(view: QueueView): string {
  const lines = view.entries.slice(0, 15).map((entry, index) => {
    const what = `${trackRef(entry.trackNumber)}${entry.prompt === undefined ? '' : ` “${clip(escapeMarkdown(entry.prompt), 60)}”`}`;
    const who = userMention(entry.requestedBy);
    return index === 0 ? `▶️ Now: ${what}, asked for by ${who}` : `${index}. ${what}, asked for by ${who}`;
  });
  const more = view.entries.length > 15 ? `\n…and ${view.entries.length - 15} more.` : '';
  const head = `🎧 Listening in ${channelMention(view.voiceChannelId)}.`;
  return lines.length === 0
    ? `${head}\nThe queue is empty: new tracks play as they are delivered.`
    : `${head}\n${lines.join('\n')}${more}`;
}
