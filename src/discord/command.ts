import {
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  type AutocompleteInteraction,
  type CacheType,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type MessageContextMenuCommandInteraction,
  type ModalSubmitInteraction,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
  type RESTPostAPIContextMenuApplicationCommandsJSONBody,
} from 'discord.js';
import type { JobIntake } from '../generation/intake.js';
import type { DraftDecision } from '../limits/policy.js';
import type { DraftReservationRequest, Reservation, ReservationRequest } from '../limits/reserve.js';
import type { SettingsService } from '../limits/settings-service.js';
import type { LyricsWriter } from '../songwriting/lyrics.js';
import type { SongwritingRepository } from '../store/songwriting-repository.js';
import type { Logger } from '../log.js';
import type { CustomId } from './custom-id.js';
import type { SettingsRepository } from '../store/settings-repository.js';
import type { TracksRepository } from '../store/tracks-repository.js';
import type { UsageRepository } from '../store/usage-repository.js';
import type { VoiceManager } from '../voice/manager.js';

/** What a command handler may use; `createApp` builds it once. */
export interface CommandContext {
  /** Where requests go, and are asked to stop; the core writes the ledger about them. */
  jobs: JobIntake;
  /** Checks every limit and writes the ledger row in one transaction. */
  reserve(request: Omit<ReservationRequest, 'now'>): Promise<Reservation>;
  /** Read only: changes go through `settingsService`, which tells the rest of the bot. */
  settings: Pick<SettingsRepository, 'get' | 'blockedWords' | 'recentChanges'>;
  usage: UsageRepository;
  tracks: TracksRepository;
  /** Every settings change goes through here (the web dashboard uses the same one). */
  settingsService: SettingsService;
  /** Personal defaults and lyrics drafts. */
  songwriting: SongwritingRepository;
  /** Checks a draft's allowance, blocked words and the server's credits, and records it as pending. */
  reserveDraft(request: Omit<DraftReservationRequest, 'now'>): Promise<DraftDecision>;
  /** The server's favourite styles of the last 30 days, for autocomplete (cached, never slow). */
  popularStyles(guildId: string): Promise<string[]>;
  /** Writes lyrics with the text model. */
  lyrics: LyricsWriter;
  now(): number;
  newId(): string;
  /** False while the store is out of reach: new requests are turned away before anything is reserved. */
  storeAvailable(): boolean;
  /** This interaction's request ID: in every log line, and the ID of the request it starts. */
  requestId: string;
  logger: Logger;
  /** Listening sessions in voice channels (`/listen`, Play in voice). */
  voice: VoiceManager;
}

/** Every command is a slash command that works in servers only (limits and history are per server). */
export const serverSlashCommand: {
  type: ApplicationCommandType.ChatInput;
  contexts: InteractionContextType[];
  integration_types: ApplicationIntegrationType[];
} = {
  type: ApplicationCommandType.ChatInput,
  contexts: [InteractionContextType.Guild],
  integration_types: [ApplicationIntegrationType.GuildInstall],
};

/** A slash command: its registration JSON and its handler. */
export interface SlashCommand {
  data: RESTPostAPIChatInputApplicationCommandsJSONBody;
  execute(interaction: ChatInputCommandInteraction, context: CommandContext): Promise<void>;
  /** Answers an option marked `autocomplete`; must answer within 3 s and never throw at the member. */
  autocomplete?(interaction: AutocompleteInteraction, context: CommandContext): Promise<void>;
}

/** A slash command used in a server (after `interaction.inGuild()`). */
export type ServerChatInput = ChatInputCommandInteraction<'cached' | 'raw'>;

/**
 * One subcommand's handler. `execute` checks who may use the command and narrows the interaction
 * to a server's (`'cached' | 'raw'`, or `'cached'` when the handler needs the guild object), then
 * `runSubcommand` picks the handler.
 */
export type Subcommand<Cache extends CacheType = 'cached' | 'raw'> = (
  interaction: ChatInputCommandInteraction<Cache>,
  context: CommandContext,
) => Promise<void>;

/** A command in a message's Apps menu: its registration JSON and its handler. */
export interface MessageCommand {
  data: RESTPostAPIContextMenuApplicationCommandsJSONBody;
  execute(interaction: MessageContextMenuCommandInteraction, context: CommandContext): Promise<void>;
}

/**
 * Buttons and modals whose `custom_id` starts with `scope:`. The router decodes the ID; the
 * handler looks up whatever it names and checks it again, since a payload can be crafted.
 */
export interface ComponentHandler {
  scope: string;
  button?(interaction: ButtonInteraction, id: CustomId, context: CommandContext): Promise<void>;
  modal?(interaction: ModalSubmitInteraction, id: CustomId, context: CommandContext): Promise<void>;
}

/** Everything the router can send an interaction to; `commands/index.ts` lists them. */
export interface Handlers {
  commands: readonly SlashCommand[];
  messageCommands?: readonly MessageCommand[];
  components: readonly ComponentHandler[];
}
