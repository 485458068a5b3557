import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who and what the code running now is working for, carried across awaits. The router sets it
 * for each interaction, so that a promise rejected far below (with nobody waiting for it) is
 * logged by the process guards with the interaction it came from.
 */
export interface RequestContext {
  requestId: string;
  interactionId: string;
  guildId: string | null;
  userId: string;
  /** The command name or the component's scope, as far as it could be read. */
  command?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithRequestContext<T>(context: RequestContext, work: () => T): T {
  return storage.run(context, work);
}

export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}
