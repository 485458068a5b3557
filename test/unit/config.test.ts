import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

const valid = { DISCORD_TOKEN: 'token', AIML_API_KEY: 'key' };

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
      LOG_LEVEL: 'info',
      HTTP_HOST: '127.0.0.1',
      DATA_DIR: './data',
      ROLE: 'all',
      REDIS_PREFIX: 'tracksmith',
      WORKER_CONCURRENCY: 32,
      QUEUE_LOCK_SECONDS: 30,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('asks for Redis when a process runs only the gateway or only the worker', () => {
    expect(() => loadConfig({ ...valid, ROLE: 'worker' })).toThrow(
      'REDIS_URL is required for the worker role: gateways and workers share work through Redis',
    );
    expect(() => loadConfig({ ...valid, ROLE: 'leader', REDIS_URL: 'http://x' })).toThrow(
      /ROLE must be one of all, gateway, worker\n.*REDIS_URL must be a redis:\/\/ or rediss:\/\/ URL/,
    );
    const config = loadConfig({ ...valid, ROLE: 'gateway', REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(config.ROLE).toBe('gateway');
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
  });

  it('refuses an in-memory store for a process that shares its work with others', () => {
    const split = { ...valid, ROLE: 'worker', REDIS_URL: 'redis://127.0.0.1:6379' };
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
});
