import {
  MessageFlags,
  type ChatInputCommandInteraction,
  type ModalSubmitInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import {
  type CommandContext,
  type ComponentHandler,
  type SlashCommand,
  serverSlashCommand,
} from '../src/discord/command.js';
import type { CustomId } from '../src/discord/custom-id.js';
import { composeForm } from '../src/discord/compose-form.js';
import { fetchMessageCredit } from '../src/discord/message-credit.js';
import { textField } from '../src/discord/modal.js';
import { renderNotice } from '../src/discord/render.js';
import { replyPrivately } from '../src/discord/reply.js';
import { requestSong } from '../src/discord/request-song.js';
import { lengthFromText } from '../src/generation/compose.js';

const data = {
  name: 'compose',
  description: 'Write a song with lyrics: a form with the style, the words and the length',
  ...serverSlashCommand,
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

async function execute(interaction: ChatInputCommandInteraction): Promise<void> {
  // A modal must be the first answer, so nothing is checked before it: the submission is.
  await interaction.showModal(composeForm({}));
}

/** The form from /compose, Make this song, or a message (whose author the track then credits). */
async function submit(
  interaction: ModalSubmitInteraction,
  id: CustomId,
  context: CommandContext,
): Promise<void> {
  const style = textField(interaction, 'style');
  const lyrics = textField(interaction, 'lyrics');
  const handBack = (problems: string[]) =>
    // A modal cannot be reopened from its own submission: hand the member their words back.
    interaction.reply({
      ...renderNotice(`${problems.join('\n')}\nYour text is attached so nothing is lost.`),
      files: [{ attachment: Buffer.from(draft(style, lyrics)), name: 'your-song.txt' }],
      flags: MessageFlags.Ephemeral,
    });

  let credit;
  if (id.action === 'message') {
    credit = await fetchMessageCredit(interaction, id.argument);
    if (!credit.ok) {
      await handBack([credit.problem]);
      return;
    }
  } else if (id.action !== 'submit') {
    await replyPrivately(interaction, 'That form is not one Tracksmith recognises. Run /compose again.');
    return;
  }
  const problems = await requestSong(interaction, context, {
    kind: 'compose',
    style,
    lyrics,
    vocals: textField(interaction, 'vocals'),
    length: lengthFromText(textField(interaction, 'length')),
    ...(credit ? { credit: credit.value } : {}),
  });
  if (problems) await handBack(problems);
}

function draft(style: string | undefined, lyrics: string | undefined): string {
  return `Style:\n${style ?? ''}\n\nLyrics:\n${lyrics ?? ''}\n`;
}

export const compose: SlashCommand = { data, execute };
export const composeModal: ComponentHandler = { scope: 'compose', modal: submit };
