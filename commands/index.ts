import type { Handlers } from '../src/discord/command.js';
import { compose, composeModal } from './compose.js';
import { music } from './music.js';
import { musicSettings } from './music-settings.js';
import { trackButtons } from './track-buttons.js';
import { tracks, tracksPaging } from './tracks.js';

/** Every slash command, button and modal the bot answers; `deploy-commands` registers the commands. */
export const handlers: Handlers = {
  commands: [music, compose, tracks, musicSettings],
  components: [trackButtons, composeModal, tracksPaging],
};

export const commands = handlers.commands;
