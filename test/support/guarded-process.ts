/**
 * A process with the bot's process guards installed that, inside two interactions' contexts,
 * leaves a promise rejected with nobody waiting and then throws. Run by
 * test/unit/process-guards.test.ts, which reads its log lines.
 */
import { createLogger } from '../../src/log.js';
import { installProcessGuards } from '../../src/process-guards.js';
import { runWithRequestContext } from '../../src/request-context.js';

const logger = createLogger('info');
installProcessGuards(logger);

runWithRequestContext(
  {
    requestId: 'req-1',
    interactionId: '1300000000000000001',
    guildId: '100',
    userId: '200',
    command: 'music',
  },
  () => {
    void Promise.reject(new Error('a stray rejection'));
  },
);
// Runs after the rejection has been reported: the process is still alive to do it.
setImmediate(() => {
  logger.info('still running');
  runWithRequestContext(
    { requestId: 'req-2', interactionId: '1300000000000000002', guildId: '100', userId: '201' },
    () => {
      setImmediate(() => {
        throw new Error('a thrown exception');
      });
    },
  );
});
