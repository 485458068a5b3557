import { parseArgs } from 'node:util';
import { DiscordjsError, DiscordjsErrorCodes } from 'discord.js';
import { createApp } from './app.js';
import { ConfigError, loadConfigFromProcess, type Config } from './config.js';
import { installProcessGuards } from './process-guards.js';

/** How long a shutdown may take before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  let config: Config;
  try {
    // `--role gateway|worker` picks what this process does; `ROLE` in the environment does too.
    const { values } = parseArgs({ options: { role: { type: 'string' } }, strict: true });
    config = await loadConfigFromProcess(values.role === undefined ? {} : { ROLE: values.role });
  } catch (error) {
    if (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
      console.error(`${error.message}\nUsage: npm start -- [--role all|gateway|worker]`);
      process.exit(1);
    }
    if (error instanceof ConfigError) {
      console.error(`${error.message}\nSet them in the environment or in .env (see .env.example).`);
      process.exit(1);
    }
    throw error;
  }

  let app;
  try {
    app = await createApp(config);
  } catch (error) {
    console.error(`Could not open the store: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  installProcessGuards(app.logger);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      app.logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        app.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  try {
    await app.start();
  } catch (error) {
    if (error instanceof DiscordjsError && error.code === DiscordjsErrorCodes.TokenInvalid) {
      app.logger.fatal('Discord rejected DISCORD_TOKEN. Copy the bot token again from the Developer Portal.');
    } else {
      app.logger.fatal(
        { err: error },
        `could not start: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    await app.stop().catch(() => undefined);
    process.exit(1);
  }
}

await main();
