import { PermissionFlagsBits, type Guild, type GuildMember, type VoiceBasedChannel } from 'discord.js';

/** What the bot needs in a voice channel to be heard there, with the names Discord's settings use. */
const NEEDED = [
  [PermissionFlagsBits.ViewChannel, 'View Channel'],
  [PermissionFlagsBits.Connect, 'Connect'],
  [PermissionFlagsBits.Speak, 'Speak'],
] as const;

/**
 * Why the bot cannot play in this channel, from its own computed permissions there (role and
 * channel overwrites), or undefined when it can.
 */
export function cannotPlayIn(channel: VoiceBasedChannel, me: GuildMember): string | undefined {
  const permissions = channel.permissionsFor(me);
  const missing = NEEDED.filter(([flag]) => !permissions.has(flag)).map(([, name]) => name);
  if (missing.length > 0) {
    return `Tracksmith lacks the ${missing.join(' and ')} permission${missing.length > 1 ? 's' : ''} in ${channel.toString()}. Ask a moderator to allow it there, or pick another channel.`;
  }
  if (channel.full && !permissions.has(PermissionFlagsBits.MoveMembers)) {
    return `${channel.toString()} is full. Make room, or pick another channel.`;
  }
  return undefined;
}

/** The voice channel a member is in, from the bot's own voice-state cache (not from the interaction). */
export function voiceChannelOf(guild: Guild, userId: string): VoiceBasedChannel | undefined {
  const channelId = guild.voiceStates.cache.get(userId)?.channelId;
  const channel = channelId ? guild.channels.cache.get(channelId) : undefined;
  return channel?.isVoiceBased() ? channel : undefined;
}

/** People (not bots, not Tracksmith) in a voice channel. */
export function listenersIn(guild: Guild, channelId: string): number {
  const me = guild.client.user.id;
  return guild.voiceStates.cache.filter(
    (state) => state.channelId === channelId && state.id !== me && state.member?.user.bot !== true,
  ).size;
}
