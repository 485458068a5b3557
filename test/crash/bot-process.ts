/**
 * The bot as a child process for the crash test: the production object graph from `createApp`,
 * configured from the environment, with the quick test timings. Prints "ready" once connected.
 */
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { installProcessGuards } from '../../src/process-guards.js';
import { fastOptions } from '../support/fast-options.js';

const app = await createApp(loadConfig(process.env), { ...fastOptions, logger: createLogger('warn') });
installProcessGuards(app.logger);
await app.start();
process.stdout.write('ready\n');
