import type {
  ChatInputCommandInteraction,
  RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import type { GenerationService } from '../generation/service.js';
import type { Logger } from '../log.js';

/** What a command handler may use; `createApp` builds it once. */
export interface CommandContext {
  generation: GenerationService;
  logger: Logger;
}

/** A slash command: its registration JSON and its handler. */
export interface SlashCommand {
  data: RESTPostAPIChatInputApplicationCommandsJSONBody;
  execute(interaction: ChatInputCommandInteraction, context: CommandContext): Promise<void>;
}
