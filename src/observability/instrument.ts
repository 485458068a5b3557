import { ProviderError } from '../aiml/errors.js';
import type { Provider } from '../generation/ports.js';
import type { Metrics } from './metrics.js';

/** The provider with every call counted by outcome: `ok`, or the error's kind. */
export function instrumentProvider(provider: Provider, metrics: Metrics): Provider {
  const count = async <T>(call: 'create' | 'poll', run: () => Promise<T>): Promise<T> => {
    try {
      const result = await run();
      metrics.providerCall(call, 'ok');
      return result;
    } catch (error) {
      metrics.providerCall(call, error instanceof ProviderError ? error.kind : 'error');
      throw error;
    }
  };
  return {
    create: (request) => count('create', () => provider.create(request)),
    poll: (generationId) => count('poll', () => provider.poll(generationId)),
  };
}
