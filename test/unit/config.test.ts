import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const valid = { DISCORD_TOKEN: 'token', AIML_API_KEY: 'key' };
const hexKey = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const base64Key = Buffer.from(hexKey, 'hex').toString('base64');

describe('loadConfig', () => {
  it('fills every default when only the secrets are set', () => {
    const config = loadConfig(valid);
    expect(config).toEqual({
      DISCORD_TOKEN: 'token',
      AIML_API_KEY: 'key',
      AIML_API_URL: 'https://api.aimlapi.com',
      AIML_LYRICS_MODEL: 'gpt-4o-mini',
      AIML_LYRICS_CREDITS_PER_TOKEN: 1,
      DISCORD_API_URL: 'https://discord.com/api',
      GENERATION_TIMEOUT_SECONDS: 600,
      MAX_CONCURRENT_GENERATIONS: 50,
      MAX_CONCURRENT_DELIVERIES: 8,
      POLL_TARGET_LAG_SECONDS: 0.5,
      LOG_LEVEL: 'info',
      HTTP_HOST: '127.0.0.1',
      DATA_DIR: './data',
      ROLE: 'all',
      REDIS_PREFIX: 'tracksmith',
      WORKER_CONCURRENCY: 32,
      QUEUE_LOCK_SECONDS: 30,
      WEB_HOST: '127.0.0.1',
      DISCORD_OAUTH_URL: 'https://discord.com',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('turns the web side on only with WEB_PORT, and then asks for what signing in needs', () => {
    expect(loadConfig(valid).WEB_PORT).toBeUndefined();
    expect(() => loadConfig({ ...valid, WEB_PORT: '8080' })).toThrow(
      /DISCORD_APPLICATION_ID is required with WEB_PORT: the web side signs people in with Discord\n.*DISCORD_CLIENT_SECRET is required with WEB_PORT/,
    );
    expect(() => loadConfig({ ...valid, WEB_PORT: '8080', PUBLIC_URL: 'ftp://x' })).toThrow(
      'PUBLIC_URL must be an http(s) URL',
    );
    const config = loadConfig({
      ...valid,
      WEB_PORT: '8080',
      PUBLIC_URL: 'https://music.example.org/',
      DISCORD_APPLICATION_ID: '110000000000000001',
      DISCORD_CLIENT_SECRET: 'secret',
    });
    expect([config.WEB_PORT, config.PUBLIC_URL, config.WEB_HOST]).toEqual([
      8080,
      'https://music.example.org',
      '127.0.0.1',
    ]);
  });

  it('asks for Redis when a process runs only the gateway or only the worker', () => {
    expect(() => loadConfig({ ...valid, ROLE: 'worker' })).toThrow(
      'REDIS_URL is required for the worker role: gateways and workers share work through Redis',
    );
    expect(() => loadConfig({ ...valid, ROLE: 'leader', REDIS_URL: 'http://x' })).toThrow(
      /ROLE must be one of all, gateway, worker\n.*REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/,
    );
    const config = loadConfig({
      ...valid,
      ROLE: 'gateway',
      REDIS_URL: 'redis://127.0.0.1:6379',
      TOKEN_ENCRYPTION_KEY: hexKey,
    });
    expect(config.ROLE).toBe('gateway');
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
  });

  it('refuses an in-memory store for a process that shares its work with others', () => {
    const split = {
      ...valid,
      ROLE: 'worker',
      REDIS_URL: 'redis://127.0.0.1:6379',
      TOKEN_ENCRYPTION_KEY: hexKey,
    };
    expect(() => loadConfig({ ...split, DATABASE_URL: 'sqlite::memory:' })).toThrow(
      'DATABASE_URL sqlite::memory: keeps the ledger inside one process, and the worker role shares it with others: use postgres://… (or a SQLite file on one host)',
    );
    // One process may keep everything in memory; a file or PostgreSQL may be shared.
    expect(loadConfig({ ...valid, DATABASE_URL: 'sqlite::memory:' }).DATABASE_URL).toBe('sqlite::memory:');
    expect(loadConfig({ ...split, DATABASE_URL: 'sqlite:///srv/bot.sqlite' }).ROLE).toBe('worker');
  });

  it('lists every missing and invalid variable in one error', () => {
    let caught: unknown;
    try {
      loadConfig({
        GENERATION_TIMEOUT_SECONDS: '0',
        AIML_API_URL: 'ftp://host',
        LOG_LEVEL: 'loud',
        DEV_GUILD_ID: 'abc',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toEqual([
      'DISCORD_TOKEN is required',
      'AIML_API_KEY is required',
      'AIML_API_URL must be an http(s) URL',
      'DEV_GUILD_ID must be a Discord ID (17 to 20 digits)',
      'GENERATION_TIMEOUT_SECONDS must be at least 1',
      'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
    ]);
    expect((caught as Error).message).toContain('  - DISCORD_TOKEN is required');
  });

  it('treats blank values as unset and trims trailing slashes from URLs', () => {
    const config = loadConfig({
      ...valid,
      LOG_LEVEL: '',
      AIML_API_URL: 'http://127.0.0.1:9999/',
      DATA_DIR: '  ',
    });
    expect(config.LOG_LEVEL).toBe('info');
    expect(config.AIML_API_URL).toBe('http://127.0.0.1:9999');
    expect(config.DATA_DIR).toBe('./data');
  });

  it('rejects a timeout that is not a whole number', () => {
    expect(() => loadConfig({ ...valid, GENERATION_TIMEOUT_SECONDS: '1.5' })).toThrow(
      'GENERATION_TIMEOUT_SECONDS must be a whole number',
    );
  });

  it('checks the scale and observability settings', () => {
    let caught: unknown;
    try {
      loadConfig({
        ...valid,
        MAX_CONCURRENT_GENERATIONS: '0',
        MAX_CONCURRENT_DELIVERIES: 'many',
        POLL_RATE_LIMIT: '-3',
        POLL_TARGET_LAG_SECONDS: 'soon',
        HTTP_PORT: '70000',
        SHARD_COUNT: 'lots',
      });
    } catch (error) {
      caught = error;
    }
    expect((caught as ConfigError).problems).toEqual([
      'MAX_CONCURRENT_GENERATIONS must be at least 1',
      'MAX_CONCURRENT_DELIVERIES must be a whole number',
      'POLL_RATE_LIMIT must be more than 0',
      'POLL_TARGET_LAG_SECONDS must be a number of seconds',
      'HTTP_PORT must be from 0 to 65535',
      'SHARD_COUNT must be auto or a whole number of shards from 1',
    ]);
    expect(
      loadConfig({ ...valid, POLL_RATE_LIMIT: '2.5', HTTP_PORT: '9464', SHARD_COUNT: '4' }),
    ).toMatchObject({
      POLL_RATE_LIMIT: 2.5,
      HTTP_PORT: 9464,
      SHARD_COUNT: 4,
    });
    expect(loadConfig({ ...valid, SHARD_COUNT: 'auto' }).SHARD_COUNT).toBe('auto');
  });

  it('takes a target lag for the poll schedule within sane bounds', () => {
    expect(loadConfig({ ...valid, POLL_TARGET_LAG_SECONDS: '1.5' }).POLL_TARGET_LAG_SECONDS).toBe(1.5);
    for (const [value, problem] of [
      ['0.01', 'POLL_TARGET_LAG_SECONDS must be at least 0.1'],
      ['600', 'POLL_TARGET_LAG_SECONDS must be at most 60'],
      ['-1', 'POLL_TARGET_LAG_SECONDS must be at least 0.1'],
    ] as const) {
      expect(() => loadConfig({ ...valid, POLL_TARGET_LAG_SECONDS: value })).toThrow(problem);
    }
  });

  it('reads TOKEN_ENCRYPTION_KEY as 32 bytes of hex or base64, and refuses anything else', () => {
    const fromHex = loadConfig({ ...valid, TOKEN_ENCRYPTION_KEY: hexKey }).TOKEN_ENCRYPTION_KEY;
    const fromBase64 = loadConfig({ ...valid, TOKEN_ENCRYPTION_KEY: base64Key }).TOKEN_ENCRYPTION_KEY;
    expect(fromHex?.toString('hex')).toBe(hexKey);
    expect(fromBase64?.equals(fromHex!)).toBe(true);
    for (const bad of [hexKey.slice(2), 'not a key', Buffer.alloc(16).toString('base64'), `${hexKey}00`]) {
      expect(() => loadConfig({ ...valid, TOKEN_ENCRYPTION_KEY: bad })).toThrow(
        'TOKEN_ENCRYPTION_KEY must be 32 bytes, as 64 hex digits or 44 base64 characters',
      );
    }
  });

  it('requires TOKEN_ENCRYPTION_KEY for a gateway or a worker, which share stored tokens', () => {
    expect(() => loadConfig({ ...valid, ROLE: 'gateway', REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(
      'TOKEN_ENCRYPTION_KEY is required for the gateway role',
    );
    expect(loadConfig({ ...valid }).TOKEN_ENCRYPTION_KEY).toBeUndefined();
  });
});
