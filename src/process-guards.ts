import type { Logger } from './log.js';
import { currentRequestContext } from './request-context.js';

/**
 * Keeps one stray promise from ending the process and, with it, every acknowledgement in flight.
 * Node's own fetch can reject inside its body writer when an upload is cut short (an aborted
 * multipart stream), where no caller of ours can catch it; such a rejection is logged and the bot
 * goes on. A thrown exception is different: the stack it unwound may have left state half-changed,
 * so it is logged and the process exits for its supervisor to restart (the ledger resumes the jobs;
 * docs/resilience.md says how to supervise it). Both lines carry the interaction being handled
 * when it happened, where there was one (Node runs these handlers in the failing code's context).
 */
export function installProcessGuards(
  logger: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  process.on('unhandledRejection', (reason) => {
    logger.error(
      { err: reason, ...currentRequestContext() },
      'a promise rejected with nobody waiting for it; the bot carries on',
    );
  });
  process.on('uncaughtException', (error) => {
    logger.fatal(
      { err: error, ...currentRequestContext() },
      'uncaught exception; exiting so the supervisor restarts the bot',
    );
    exit(1);
  });
}
