import { MessageFlags, type RepliableInteraction } from 'discord.js';
import { renderNotice } from './render.js';

/** A notice only the member sees, as the interaction's first answer: refusals, bad input, help. */
export async function replyPrivately(interaction: RepliableInteraction, text: string): Promise<void> {
  await interaction.reply({ ...renderNotice(text), flags: MessageFlags.Ephemeral });
}
