import { TextInputStyle, type APIModalInteractionResponseCallbackData } from 'discord.js';
import { LENGTH_MAX_SECONDS, LENGTH_MIN_SECONDS, PROMPT_MAX_CHARS } from '../generation/request.js';
import { encodeCustomId } from './custom-id.js';
import { textInput } from './modal.js';

/** Discord's own ceiling for a paragraph field; the combined prompt is checked on submit. */
const PARAGRAPH_MAX = 4000;

/**
 * The compose form, empty (/compose) or pre-filled (Make this song, a message's text). Pre-filled
 * values are cut to their field's limit: Discord refuses a modal whose value is longer.
 */
export function composeForm(prefill: {
  style?: string | undefined;
  lyrics?: string | undefined;
  /** A message the lyrics came from: its ID rides in the form's custom_id for the credit. */
  messageId?: string | undefined;
}): APIModalInteractionResponseCallbackData {
  const value = (text: string | undefined, max: number) =>
    text === undefined || text.trim() === '' ? {} : { value: text.slice(0, max) };
  return {
    custom_id:
      prefill.messageId === undefined
        ? encodeCustomId('compose', 'submit')
        : encodeCustomId('compose', 'message', prefill.messageId),
    title: 'Compose a song',
    components: [
      textInput('style', 'Style', TextInputStyle.Paragraph, {
        required: true,
        max_length: PROMPT_MAX_CHARS,
        placeholder: 'Warm indie folk, finger-picked guitar, soft female vocals, 90 bpm',
        ...value(prefill.style, PROMPT_MAX_CHARS),
      }),
      textInput('lyrics', 'Lyrics', TextInputStyle.Paragraph, {
        required: false,
        max_length: PARAGRAPH_MAX,
        placeholder: '[Verse]\nMorning light on the harbour…\n[Chorus]\n…',
        ...value(prefill.lyrics, PARAGRAPH_MAX),
      }),
      textInput('vocals', 'Vocals or instrumental (optional)', TextInputStyle.Short, {
        required: false,
        max_length: 20,
        placeholder: 'vocals or instrumental',
      }),
      textInput(
        'length',
        `Length in seconds (${LENGTH_MIN_SECONDS}-${LENGTH_MAX_SECONDS}, optional)`,
        TextInputStyle.Short,
        { required: false, max_length: 3, placeholder: 'your default, or the server’s' },
      ),
    ],
  };
}
