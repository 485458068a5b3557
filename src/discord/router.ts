import {
  MessageFlags,
  type AutocompleteInteraction,
  type Interaction,
  type RepliableInteraction,
} from 'discord.js';
import { lazyChild, type Logger } from '../log.js';
import { isTransientStoreError } from '../store/health.js';
import { runWithRequestContext } from '../request-context.js';
import type { CommandContext, Handlers } from './command.js';
import { decodeCustomId } from './custom-id.js';
import type { FrameGuard } from './frame-guard.js';
import { renderNotice } from './render.js';
import { replyPrivately } from './reply.js';

const genericFailure = 'Something went wrong while handling that. Please try again in a moment.';
export const storageUnavailable = "The bot's storage is unavailable right now. Try again in a minute.";
const stopping = 'Tracksmith is restarting. Please try again in a minute.';
const unknownCommand = 'This command is not available any more.';
const unknownComponent = 'That button or form is not one Tracksmith recognises. Run the command again.';
const malformedCommand = 'That command arrived in a form Tracksmith does not recognise. Run it again.';

export interface Router {
  handle(interaction: Interaction): Promise<void>;
  /**
   * Refuses new commands from now on (graceful shutdown), and resolves once every interaction
   * already taken has been handled: a request acknowledged just before the stop is still handed to
   * the queue before the queue closes, rather than ended as one that could not be queued.
   */
  close(): Promise<void>;
}

/**
 * Sends each interaction to the handler registered for it: slash commands by name, buttons and
 * modals by the scope of their `custom_id`. It knows no handler by name: the lists come from
 * `createApp`.
 */
export function createRouter(
  handlers: Handlers,
  context: Omit<CommandContext, 'requestId'>,
  options: { frameGuard?: FrameGuard } = {},
): Router {
  const commands = new Map(handlers.commands.map((command) => [command.data.name, command]));
  const messageCommands = new Map(
    (handlers.messageCommands ?? []).map((command) => [command.data.name, command]),
  );
  const components = new Map(handlers.components.map((handler) => [handler.scope, handler]));
  let open = true;
  const inFlight = new Set<Promise<void>>();

  /** Picks the handler, or returns why there is none. */
  const dispatch = (
    interaction: Interaction,
    scoped: CommandContext,
  ): (() => Promise<void>) | { refuse: string } | undefined => {
    if (interaction.isChatInputCommand()) {
      const command = commands.get(interaction.commandName);
      return command ? () => command.execute(interaction, scoped) : { refuse: unknownCommand };
    }
    if (interaction.isMessageContextMenuCommand()) {
      const command = messageCommands.get(interaction.commandName);
      return command ? () => command.execute(interaction, scoped) : { refuse: unknownCommand };
    }
    if (interaction.isButton() || interaction.isModalSubmit()) {
      const id = decodeCustomId(interaction.customId);
      const handler = id && components.get(id.scope);
      if (!id || !handler) return { refuse: unknownComponent };
      if (interaction.isButton() && handler.button) {
        const button = handler.button.bind(handler);
        return () => button(interaction, id, scoped);
      }
      if (interaction.isModalSubmit() && handler.modal) {
        const modal = handler.modal.bind(handler);
        return () => modal(interaction, id, scoped);
      }
      return { refuse: unknownComponent };
    }
    return undefined;
  };

  /** Autocomplete: the command's own choices, or none when it has none or fails (never an error). */
  const suggest = async (interaction: AutocompleteInteraction) => {
    const logger = context.logger.child({
      interactionId: interaction.id,
      command: interaction.commandName,
      guildId: interaction.guildId,
    });
    const command = commands.get(interaction.commandName);
    try {
      if (!open || !command?.autocomplete) throw new Error('no autocomplete for this command');
      await command.autocomplete(interaction, { ...context, logger, requestId: context.newId() });
    } catch (error) {
      logger.warn({ err: error }, 'autocomplete failed; answering with no choices');
      if (!interaction.responded) await interaction.respond([]).catch(() => undefined);
    }
  };

  return {
    async close() {
      open = false;
      await Promise.all(inFlight);
    },

    handle(interaction) {
      const handled = handleAny(interaction);
      inFlight.add(handled);
      void handled.finally(() => inFlight.delete(handled));
      return handled;
    },
  };

  async function handleAny(interaction: Interaction): Promise<void> {
    // Never rejects: app.ts does not wait on it, and one bad interaction must not end the process.
    try {
      if (interaction.isAutocomplete()) {
        await suggest(interaction);
        return;
      }
      if (!interaction.isRepliable()) return;
      // One ID from the interaction to the delivery: it becomes the ledger row's and the job's ID.
      const requestId = context.newId();
      const command = nameOf(interaction);
      const scope = {
        requestId,
        interactionId: interaction.id,
        guildId: interaction.guildId,
        userId: interaction.user.id,
        ...(command === undefined ? {} : { command }),
      };
      const logger = lazyChild(context.logger, scope);
      await runWithRequestContext(scope, () => handleOne(interaction, requestId, logger));
    } catch (error) {
      context.logger.error({ err: error, interactionId: interaction.id }, 'interaction could not be handled');
    }
  }

  async function handleOne(interaction: RepliableInteraction, requestId: string, logger: Logger) {
    logger.debug('interaction received');
    try {
      if (options.frameGuard?.takeRefusal(interaction.id)) {
        logger.warn('malformed interaction refused');
        const refusal = interaction.isCommand() ? malformedCommand : unknownComponent;
        await privately(interaction, refusal, logger);
        return;
      }
      const route = dispatch(interaction, { ...context, logger, requestId });
      if (route === undefined) return;
      if (typeof route !== 'function') {
        logger.warn('interaction with no handler');
        await privately(interaction, route.refuse, logger);
        return;
      }
      if (!open) {
        await privately(interaction, stopping, logger);
        return;
      }
      try {
        await route();
      } catch (error) {
        logger.error({ err: error }, 'handler failed');
        // A store that went away mid-command is an outage the member can wait out, not a bug.
        const notice = renderNotice(isTransientStoreError(error) ? storageUnavailable : genericFailure);
        // A deferred reply shows "thinking…" until edited, so the notice replaces it.
        const answer = interaction.replied
          ? interaction.followUp({ ...notice, flags: MessageFlags.Ephemeral })
          : interaction.deferred
            ? interaction.editReply(notice)
            : interaction.reply({ ...notice, flags: MessageFlags.Ephemeral });
        await answer.catch((replyError: unknown) =>
          logger.warn({ err: replyError }, 'could not report the failure'),
        );
      }
    } finally {
      // The last line of every interaction: tests wait for it to know nothing more will be sent.
      logger.debug('interaction handled');
    }
  }
}

/** The command's name or the component's scope, for the log; never more than a short string. */
function nameOf(interaction: Interaction): string | undefined {
  const raw = interaction.isCommand()
    ? interaction.commandName
    : interaction.isButton() || interaction.isModalSubmit()
      ? interaction.customId
      : undefined;
  return typeof raw === 'string' ? raw.slice(0, 100) : undefined;
}

/** An ephemeral notice as the interaction's first answer; a failure to send it is only logged. */
async function privately(interaction: RepliableInteraction, text: string, logger: Logger): Promise<void> {
  await replyPrivately(interaction, text).catch((error: unknown) =>
    logger.warn({ err: error }, 'could not send a notice'),
  );
}
