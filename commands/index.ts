import type { Handlers } from '../src/discord/command.js';
import { compose, composeModal } from './compose.js';
import { listen, voiceButtons } from './listen.js';
import { music } from './music.js';
import { musicSettings } from './music-settings.js';
import { trackButtons } from './track-buttons.js';
import { tracks, tracksPaging } from './tracks.js';

/** Every slash command, button and modal the bot answers; `deploy-commands` registers the commands. */
export const handlers: Handlers = {
  commands: [music, compose, tracks, musicSettings, listen],
  components: [trackButtons, composeModal, tracksPaging, voiceButtons],
};

export const commands = handlers.commands;
