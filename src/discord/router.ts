import { MessageFlags, type Interaction } from 'discord.js';
import type { Logger } from '../log.js';
import type { CommandContext, SlashCommand } from './command.js';
import { renderNotice } from './render.js';

const genericFailure = 'Something went wrong while handling that command. Please try again in a moment.';
const stopping = 'Tracksmith is restarting. Please try again in a minute.';

export interface Router {
  handle(interaction: Interaction): Promise<void>;
  /** Refuse new commands from now on (graceful shutdown). */
  close(): void;
}

/**
 * Sends each interaction to the handler registered for it. It knows no command by name: the list
 * comes from `createApp`.
 */
export function createRouter(commands: readonly SlashCommand[], context: CommandContext): Router {
  const byName = new Map(commands.map((command) => [command.data.name, command]));
  let open = true;

  return {
    close() {
      open = false;
    },

    async handle(interaction) {
      if (!interaction.isChatInputCommand()) return;
      const logger: Logger = context.logger.child({
        interactionId: interaction.id,
        command: interaction.commandName,
        guildId: interaction.guildId,
        userId: interaction.user.id,
      });
      const command = byName.get(interaction.commandName);
      if (!command) {
        logger.warn('interaction for an unknown command');
        await interaction
          .reply({
            ...renderNotice('This command is not available any more.'),
            flags: MessageFlags.Ephemeral,
          })
          .catch((error: unknown) => logger.warn({ err: error }, 'could not answer an unknown command'));
        return;
      }
      if (!open) {
        await interaction
          .reply({ ...renderNotice(stopping), flags: MessageFlags.Ephemeral })
          .catch((error: unknown) =>
            logger.warn({ err: error }, 'could not refuse a command during shutdown'),
          );
        return;
      }
      try {
        await command.execute(interaction, { ...context, logger });
      } catch (error) {
        logger.error({ err: error }, 'command failed');
        const notice = renderNotice(genericFailure);
        const answer =
          interaction.deferred || interaction.replied
            ? interaction.editReply(notice)
            : interaction.reply({ ...notice, flags: MessageFlags.Ephemeral });
        await answer.catch((replyError: unknown) =>
          logger.warn({ err: replyError }, 'could not report the failure'),
        );
      }
    },
  };
}
