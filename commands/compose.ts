import {
  MessageFlags,
  TextInputStyle,
  type APIModalInteractionResponseCallbackData,
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
import { encodeCustomId } from '../src/discord/custom-id.js';
import { textField, textInput } from '../src/discord/modal.js';
import { renderNotice } from '../src/discord/render.js';
import { requestTrack } from '../src/discord/request-track.js';
import { composePrompt, lengthFromText } from '../src/generation/compose.js';
import { LENGTH_MAX_SECONDS, LENGTH_MIN_SECONDS, PROMPT_MAX_CHARS } from '../src/generation/request.js';

const data = {
  name: 'compose',
  description: 'Write a song with lyrics: a form with the style, the words and the length',
  ...serverSlashCommand,
} as const satisfies RESTPostAPIChatInputApplicationCommandsJSONBody;

/** Discord's own ceiling for a paragraph field; the combined prompt is checked on submit. */
const PARAGRAPH_MAX = 4000;

export const composeForm: APIModalInteractionResponseCallbackData = {
  custom_id: encodeCustomId('compose', 'submit'),
  title: 'Compose a song',
  components: [
    textInput('style', 'Style', TextInputStyle.Paragraph, {
      required: true,
      max_length: PROMPT_MAX_CHARS,
      placeholder: 'Warm indie folk, finger-picked guitar, soft female vocals, 90 bpm',
    }),
    textInput('lyrics', 'Lyrics (optional)', TextInputStyle.Paragraph, {
      required: false,
      max_length: PARAGRAPH_MAX,
      placeholder: '[Verse]\nMorning light on the harbour…\n[Chorus]\n…',
    }),
    textInput(
      'length',
      `Length in seconds (${LENGTH_MIN_SECONDS}-${LENGTH_MAX_SECONDS}, optional)`,
      TextInputStyle.Short,
      {
        required: false,
        max_length: 3,
        placeholder: 'the server default',
      },
    ),
  ],
};

async function execute(interaction: ChatInputCommandInteraction): Promise<void> {
  // A modal must be the first answer, so nothing is checked before it: the submission is.
  await interaction.showModal(composeForm);
}

async function submit(
  interaction: ModalSubmitInteraction,
  _id: unknown,
  context: CommandContext,
): Promise<void> {
  const style = textField(interaction, 'style');
  const lyrics = textField(interaction, 'lyrics');
  const prompt = composePrompt({ style, lyrics });
  if (!prompt.ok) {
    // A modal cannot be reopened from its own submission: hand the member their words back.
    await interaction.reply({
      ...renderNotice(`${prompt.problems.join('\n')}\nYour text is attached so nothing is lost.`),
      files: [{ attachment: Buffer.from(draft(style, lyrics)), name: 'your-song.txt' }],
      flags: MessageFlags.Ephemeral,
    });
    return;
  }
  await requestTrack(interaction, context, {
    prompt: prompt.value,
    length: lengthFromText(textField(interaction, 'length')),
    kind: 'compose',
  });
}

function draft(style: string | undefined, lyrics: string | undefined): string {
  return `Style:\n${style ?? ''}\n\nLyrics:\n${lyrics ?? ''}\n`;
}

export const compose: SlashCommand = { data, execute };
export const composeModal: ComponentHandler = { scope: 'compose', modal: submit };
