import {
  ComponentType,
  type APIModalInteractionResponseCallbackData,
  type ModalSubmitInteraction,
  type TextInputStyle,
} from 'discord.js';

type ModalRow = APIModalInteractionResponseCallbackData['components'][number];

/** One labelled text input on its own row, the layout Discord documents for modals. */
export function textInput(
  customId: string,
  label: string,
  style: TextInputStyle,
  options: { required: boolean; max_length: number; placeholder?: string; value?: string },
): ModalRow {
  return {
    type: ComponentType.ActionRow,
    components: [{ type: ComponentType.TextInput, custom_id: customId, label, style, ...options }],
  };
}

/** A submitted field's text, or undefined when a crafted submission left it out. */
export function textField(interaction: ModalSubmitInteraction, customId: string): string | undefined {
  const value = interaction.fields.fields.get(customId);
  return value && 'value' in value && typeof value.value === 'string' ? value.value : undefined;
}
