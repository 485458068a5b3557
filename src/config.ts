import { z } from 'zod';
import { isInMemoryStore } from './store/store-url.js';

/**
 * Every setting the bot reads from the environment. This is the only module that looks at
 * `process.env`; everything else receives the frozen `Config` it returns.
 */
const positiveInt = (fallback: number, max: number) =>
  z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`)
    .default(fallback);

const url = (fallback: string) =>
  z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .default(fallback)
    .transform((value) => value.replace(/\/+$/, ''));

/**
 * A 256-bit key, as 64 hex digits or as base64 (44 characters with padding). Read as the key's
 * bytes; anything that does not come to exactly 32 bytes is refused rather than stretched.
 */
const encryptionKey = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const bytes = /^[0-9a-fA-F]{64}$/.test(value)
      ? Buffer.from(value, 'hex')
      : /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=?$/.test(value)
        ? Buffer.from(value, 'base64')
        : undefined;
    if (bytes?.length !== 32) {
      ctx.addIssue({
        code: 'custom',
        message:
          'must be 32 bytes, as 64 hex digits or 44 base64 characters (make one with: openssl rand -base64 32)',
      });
      return z.NEVER;
    }
    return bytes;
  });

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const snowflake = z.string().regex(/^\d{17,20}$/, 'must be a Discord ID (17 to 20 digits)');

/** What one process does: everything, only the Discord side, or only the pipeline. */
export const ROLES = ['all', 'gateway', 'worker'] as const;
export type Role = (typeof ROLES)[number];

const schema = z.object({
  DISCORD_TOKEN: z.string({ error: 'is required' }).trim().min(1, 'is required'),
  AIML_API_KEY: z.string({ error: 'is required' }).trim().min(1, 'is required'),
  AIML_API_URL: url('https://api.aimlapi.com'),
  AIML_LYRICS_MODEL: z
    .string()
    .trim()
    .regex(/^[\w./:-]{1,100}$/, 'must be a model name such as gpt-4o-mini')
    .default('gpt-4o-mini'),
  AIML_LYRICS_CREDITS_PER_TOKEN: z.coerce
    .number({ error: 'must be a number of credits' })
    .min(0, 'must be 0 or more')
    .max(1_000_000, 'must be at most 1000000')
    .default(1),
  DISCORD_API_URL: url('https://discord.com/api'),
  DISCORD_APPLICATION_ID: snowflake.optional(),
  DEV_GUILD_ID: snowflake.optional(),
  GENERATION_TIMEOUT_SECONDS: positiveInt(600, 3600),
  MAX_CONCURRENT_GENERATIONS: positiveInt(50, 10_000),
  MAX_CONCURRENT_DELIVERIES: positiveInt(8, 256),
  POLL_RATE_LIMIT: z.coerce
    .number({ error: 'must be a number of checks per second' })
    .positive('must be more than 0')
    .max(10_000, 'must be at most 10000')
    .optional(),
  POLL_TARGET_LAG_SECONDS: z.coerce
    .number({ error: 'must be a number of seconds' })
    .min(0.1, 'must be at least 0.1')
    .max(60, 'must be at most 60')
    .default(0.5),
  LOG_LEVEL: z.enum(logLevels, { error: `must be one of ${logLevels.join(', ')}` }).default('info'),
  DATA_DIR: z.string().trim().min(1).default('./data'),
  HTTP_PORT: z.coerce
    .number({ error: 'must be a port number' })
    .int('must be a port number')
    .min(0, 'must be from 0 to 65535')
    .max(65_535, 'must be from 0 to 65535')
    .optional(),
  HTTP_HOST: z.string().trim().min(1).default('127.0.0.1'),
  SHARD_COUNT: z
    .union([z.literal('auto'), z.coerce.number().int().min(1).max(10_000)], {
      error: 'must be auto or a whole number of shards from 1',
    })
    .optional(),
  DATABASE_URL: z.string().trim().min(1).optional(),
  ROLE: z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` }).default('all'),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  REDIS_PREFIX: z
    .string()
    .trim()
    .regex(/^[\w.-]{1,64}$/, 'must be 1 to 64 letters, digits, dots, dashes or underscores')
    .default('tracksmith'),
  WORKER_CONCURRENCY: positiveInt(32, 1_000),
  WEB_PORT: z.coerce
    .number({ error: 'must be a port number' })
    .int('must be a port number')
    .min(0, 'must be from 0 to 65535')
    .max(65_535, 'must be from 0 to 65535')
    .optional(),
  WEB_HOST: z.string().trim().min(1).default('127.0.0.1'),
  PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .transform((value) => value.replace(/\/+$/, ''))
    .optional(),
  DISCORD_CLIENT_SECRET: z.string().trim().min(1).optional(),
  DISCORD_OAUTH_URL: url('https://discord.com'),
  QUEUE_LOCK_SECONDS: positiveInt(30, 3_600),
  TOKEN_ENCRYPTION_KEY: encryptionKey.optional(),
});

export type Config = Readonly<z.output<typeof schema>>;

/** Raised when the environment is unusable; its message lists every problem, one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates the environment in one pass so the operator sees every missing or invalid variable at
 * once. Empty strings count as unset, which is what a blank line in `.env` means.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const present = Object.fromEntries(
    Object.keys(schema.shape).flatMap((key) => {
      const value = env[key];
      return value === undefined || value.trim() === '' ? [] : [[key, value]];
    }),
  );
  const parsed = schema.safeParse(present);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const key = issue.path.join('.');
        const message = issue.code === 'invalid_type' && !(key in present) ? 'is required' : issue.message;
        return `${key} ${message}`;
      });
  const role = present.ROLE;
  const splitRole = role === 'gateway' || role === 'worker';
  if (splitRole && present.REDIS_URL === undefined) {
    problems.push(
      `REDIS_URL is required for the ${role} role: gateways and workers share work through Redis`,
    );
  }
  if (splitRole && present.TOKEN_ENCRYPTION_KEY === undefined) {
    problems.push(
      `TOKEN_ENCRYPTION_KEY is required for the ${role} role: every process must read the interaction tokens the others stored (make one with: openssl rand -base64 32)`,
    );
  }
  if (splitRole && isInMemoryStore(present.DATABASE_URL)) {
    problems.push(
      `DATABASE_URL ${present.DATABASE_URL} keeps the ledger inside one process, and the ${role} role shares it with others: use postgres://… (or a SQLite file on one host)`,
    );
  }
  if (present.WEB_PORT !== undefined) {
    // Sign in with Discord needs the application's ID and secret; without them no page can open.
    for (const key of ['DISCORD_APPLICATION_ID', 'DISCORD_CLIENT_SECRET'] as const) {
      if (present[key] === undefined)
        problems.push(`${key} is required with WEB_PORT: the web side signs people in with Discord`);
    }
  }
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(parsed.data);
}

/** Reads `.env` (when present) on top of the process environment, then command-line overrides, then validates. */
export async function loadConfigFromProcess(overrides: Record<string, string> = {}): Promise<Config> {
  const { config } = await import('dotenv');
  config({ quiet: true });
  return loadConfig({ ...process.env, ...overrides });
}
