import {
  ApplicationCommandType,
  REST,
  Routes,
  type APIApplication,
  type RESTPutAPIApplicationCommandsResult,
} from 'discord.js';
import { commands } from '../commands/index.js';
import { ConfigError, loadConfigFromProcess } from './config.js';

/**
 * `npm run deploy-commands`: registers the command list. With DEV_GUILD_ID the commands go to that
 * one server, where they appear at once; without it they are global for every server the bot is in.
 */
async function deploy(): Promise<void> {
  const config = await loadConfigFromProcess();
  const rest = new REST({ api: config.DISCORD_API_URL }).setToken(config.DISCORD_TOKEN);
  const applicationId =
    config.DISCORD_APPLICATION_ID ?? ((await rest.get(Routes.currentApplication())) as APIApplication).id;
  const body = commands.map((command) => command.data);
  const route = config.DEV_GUILD_ID
    ? Routes.applicationGuildCommands(applicationId, config.DEV_GUILD_ID)
    : Routes.applicationCommands(applicationId);
  const registered = (await rest.put(route, { body })) as RESTPutAPIApplicationCommandsResult;
  const where = config.DEV_GUILD_ID
    ? `server ${config.DEV_GUILD_ID}`
    : 'every server (global; may take up to an hour)';
  console.log(
    `Registered ${registered.length} command(s) for ${where}: ${registered.map((c) => (c.type === ApplicationCommandType.Message ? `“${c.name}” (message menu)` : `/${c.name}`)).join(', ')}`,
  );
}

try {
  await deploy();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error(`Could not register commands: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
}
