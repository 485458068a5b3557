import { pino, type Bindings, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Paths pino blanks out wherever they appear in a log object. Interaction tokens are bearer
 * credentials for 15 minutes, so they are treated like the API keys.
 */
export const redactedPaths = [
  'token',
  '*.token',
  'interactionToken',
  '*.interactionToken',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'DISCORD_TOKEN',
  'AIML_API_KEY',
  '*.DISCORD_TOKEN',
  '*.AIML_API_KEY',
];

export function createLogger(level: LoggerOptions['level'], destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    level: level ?? 'info',
    base: { app: 'tracksmith' },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    serializers: { err: pino.stdSerializers.err },
  };
  return destination ? pino(options, destination) : pino(options);
}

const noop = () => undefined;

/**
 * `parent.child(bindings)`, made only when something is written through it. pino serialises (and
 * redacts) a child's bindings as soon as it is made; the router made one per interaction, about
 * 5% of a `/music` burst's CPU, for lines that are mostly debug and so off in production. Until
 * then, a disabled level's method is a no-op like pino's own; anything else makes the child.
 */
export function lazyChild(parent: Logger, bindings: Bindings): Logger {
  let child: Logger | undefined;
  const real = (): Logger => (child ??= parent.child(bindings));
  const isLevel = (name: string) => Object.hasOwn(parent.levels.values, name);
  return new Proxy(parent, {
    get(_target, property) {
      if (
        typeof property === 'string' &&
        child === undefined &&
        isLevel(property) &&
        !parent.isLevelEnabled(property)
      )
        return noop;
      const target = real();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
    set(_target, property, value: unknown) {
      return Reflect.set(real(), property, value);
    },
  });
}
