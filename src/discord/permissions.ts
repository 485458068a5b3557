import { PermissionFlagsBits, type BaseInteraction } from 'discord.js';

/**
 * Moderators may cancel or delete anyone's track: members who can manage the server or its
 * messages. Discord computes `member.permissions` for the channel, so this is as trustworthy as
 * the interaction itself.
 */
export function isModerator(interaction: BaseInteraction): boolean {
  const permissions = interaction.inGuild() ? interaction.memberPermissions : null;
  return (
    permissions !== null &&
    permissions.any([PermissionFlagsBits.ManageGuild, PermissionFlagsBits.ManageMessages])
  );
}
