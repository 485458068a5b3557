import { MessageFlags, type ButtonInteraction, type ChatInputCommandInteraction } from 'discord.js';
import type { CommandContext } from './command.js';
import { renderNotice } from './render.js';
import { renderDraft } from './render-lyrics.js';
import { replyPrivately } from './reply.js';
import { memberRoles } from './request-track.js';

/**
 * One lyrics draft, from /lyrics or Redraft: check and record it (allowance, blocked words,
 * credits), show "thinking…" publicly, make exactly one model call, then post the draft, or remove
 * the reply and tell the member privately when the lyrics hold a blocked word.
 */
export async function draftLyrics(
  interaction: ChatInputCommandInteraction | ButtonInteraction,
  context: CommandContext,
  ask: { idea: string; style: string | null },
): Promise<void> {
  if (!interaction.inGuild()) {
    await replyPrivately(interaction, 'Lyrics can only be drafted in a server channel.');
    return;
  }
  const id = context.requestId;
  const { guildId } = interaction;
  const decision = await context.reserveDraft({
    id,
    guildId,
    channelId: interaction.channelId,
    userId: interaction.user.id,
    memberRoleIds: memberRoles(interaction),
    idea: ask.idea,
    style: ask.style,
  });
  if (!decision.allowed) {
    await replyPrivately(interaction, decision.message);
    return;
  }
  let result;
  try {
    await interaction.deferReply();
    result = await context.lyrics.write(guildId, ask.idea, ask.style);
  } catch (error) {
    await context.songwriting.finishDraft(id, { status: 'failed', lyrics: null, creditsUsed: 0 });
    throw error;
  }
  context.logger.info({ outcome: result.kind }, 'lyrics draft finished');
  switch (result.kind) {
    case 'failed':
      await context.songwriting.finishDraft(id, {
        status: 'failed',
        lyrics: null,
        creditsUsed: result.creditsUsed ?? 0,
      });
      await interaction.editReply(renderNotice(`⚠️ No lyrics this time. ${result.message}`));
      return;
    case 'blocked':
      await context.songwriting.finishDraft(id, {
        status: 'blocked',
        lyrics: null,
        creditsUsed: result.creditsUsed,
      });
      // Shown to nobody: the public "thinking…" goes, and only the member hears why.
      await interaction.deleteReply();
      await interaction.followUp({
        ...renderNotice(
          `The draft held a word this server blocks ("${result.word}"), so nobody was shown it. Try a different idea.`,
        ),
        flags: MessageFlags.Ephemeral,
      });
      return;
    case 'drafted':
      await context.songwriting.finishDraft(id, {
        status: 'drafted',
        lyrics: result.lyrics,
        creditsUsed: result.creditsUsed,
      });
      await interaction.editReply(
        renderDraft({
          id,
          userId: interaction.user.id,
          ...ask,
          lyrics: result.lyrics,
          shortened: result.shortened,
        }),
      );
  }
}
