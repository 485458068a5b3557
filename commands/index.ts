import type { Handlers } from '../src/discord/command.js';
import { compose, composeModal } from './compose.js';
import { lyrics, lyricsButtons } from './lyrics.js';
import { makeTrackFromMessage } from './make-track.js';
import { listen, voiceButtons } from './listen.js';
import { music } from './music.js';
import { musicPrefs } from './music-prefs.js';
import { musicSettings } from './music-settings.js';
import { trackButtons } from './track-buttons.js';
import { tracks, tracksPaging } from './tracks.js';

/** Every slash command, button and modal the bot answers; `deploy-commands` registers the commands. */
export const handlers: Handlers = {
  commands: [music, compose, lyrics, tracks, musicSettings, musicPrefs, listen],
  messageCommands: [makeTrackFromMessage],
  components: [trackButtons, composeModal, tracksPaging, lyricsButtons, voiceButtons],
};

/** What `deploy-commands` registers: the slash commands and the message menu commands. */
export const commands: readonly { data: { name: string } }[] = [
  ...handlers.commands,
  ...(handlers.messageCommands ?? []),
];
