import type { SlashCommand } from '../src/discord/command.js';
import { music } from './music.js';
import { musicSettings } from './music-settings.js';

/** Every command the bot serves and registers, in one explicit list. */
export const commands: readonly SlashCommand[] = [music, musicSettings];
