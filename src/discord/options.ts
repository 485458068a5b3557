import type { ChatInputCommandInteraction, CommandInteractionOption } from 'discord.js';
import { replyPrivately } from './reply.js';

/**
 * The one way commands read what a member typed.
 *
 * Values come back raw (whatever type the payload carried), not through `getString`/`getInteger`:
 * a crafted payload may carry any type under a known name, and it must get the same clear message
 * as a bad value, so every command validates what it reads. Subcommand options are found by name too (discord.js
 * hoists them), so a handler never walks `options.data` itself.
 */
export function optionValue(
  interaction: ChatInputCommandInteraction,
  name: string,
): CommandInteractionOption['value'] {
  return interaction.options.get(name)?.value;
}

/** True when the option was sent at all, whatever its value. */
export function hasOption(interaction: ChatInputCommandInteraction, name: string): boolean {
  return interaction.options.get(name) !== null;
}

/**
 * The handler for the subcommand the member chose, keyed `sub` or, inside a group, `group sub`.
 * Undefined for a name the command does not have (only a crafted payload sends one); own keys
 * only, so a name such as `constructor` cannot reach `Object.prototype`.
 */
function subcommandHandler<H>(
  interaction: ChatInputCommandInteraction,
  handlers: Readonly<Record<string, H>>,
): H | undefined {
  const subcommand = interaction.options.getSubcommand(false);
  if (subcommand === null) return undefined;
  const group = interaction.options.getSubcommandGroup(false);
  const name = group === null ? subcommand : `${group} ${subcommand}`;
  return Object.hasOwn(handlers, name) ? handlers[name] : undefined;
}

/**
 * Runs the handler for the chosen subcommand, or tells the member privately that there is no such
 * one (`unknown`). Who may use the command is checked before, by the command itself.
 */
export async function runSubcommand<I extends ChatInputCommandInteraction, C>(
  interaction: I,
  handlers: Readonly<Record<string, (interaction: I, context: C) => Promise<void>>>,
  context: C,
  unknown: string,
): Promise<void> {
  const handler = subcommandHandler(interaction, handlers);
  if (handler) await handler(interaction, context);
  else await replyPrivately(interaction, unknown);
}
