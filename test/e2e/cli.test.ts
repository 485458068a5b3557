import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApplicationCommandOptionType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeAiml } from '../fakes/aiml.js';
import { FakeDiscord } from '../fakes/discord.js';
import { compileCacheEnv, entryPoint } from '../support/entry-points.js';

const run = promisify(execFile);

/**
 * Runs an entry point (compiled, see entry-points.ts) with exactly `env` and no inherited
 * variables, from an empty directory, so no .env is read.
 */
async function runEntry(entry: 'main' | 'deploy', env: Record<string, string>, args: string[] = []) {
  const cwd = await mkdtemp(join(tmpdir(), 'tracksmith-cli-'));
  try {
    const { stdout, stderr } = await run(process.execPath, [await entryPoint(entry), ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...compileCacheEnv, ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

let discord: FakeDiscord | undefined;
afterEach(async () => {
  await discord?.close();
  discord = undefined;
});

describe('entry points', () => {
  it('the bot exits 1 with every missing variable listed, and no stack trace, on an empty environment', async () => {
    const result = await runEntry('main', {});
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Invalid configuration:\n  - DISCORD_TOKEN is required\n  - AIML_API_KEY is required',
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('a gateway or worker needs REDIS_URL; a bad role or flag is refused with the usage', async () => {
    const secrets = { DISCORD_TOKEN: 'token', AIML_API_KEY: 'key' };
    // Three processes that each stop at their configuration: started together.
    const [worker, role, flag] = await Promise.all([
      runEntry('main', secrets, ['--role', 'worker']),
      runEntry('main', secrets, ['--role', 'leader']),
      runEntry('main', secrets, ['--rol', 'worker']),
    ]);
    expect(worker.code).toBe(1);
    expect(worker.stderr).toContain(
      'REDIS_URL is required for the worker role: gateways and workers share work through Redis',
    );
    expect(role.code).toBe(1);
    expect(role.stderr).toContain('ROLE must be one of all, gateway, worker');
    expect(flag.code).toBe(1);
    expect(flag.stderr).toContain('Usage: npm start -- [--role all|gateway|worker]');
    for (const result of [worker, role, flag]) expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('a gateway or worker refuses a store that lives inside one process', async () => {
    const secrets = { DISCORD_TOKEN: 'token', AIML_API_KEY: 'key' };
    const memory = await runEntry(
      'main',
      {
        ...secrets,
        REDIS_URL: 'redis://127.0.0.1:6379',
        DATABASE_URL: 'sqlite::memory:',
        TOKEN_ENCRYPTION_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
      },
      ['--role', 'gateway'],
    );
    expect(memory.code).toBe(1);
    expect(memory.stderr).toContain(
      'DATABASE_URL sqlite::memory: keeps the ledger inside one process, and the gateway role shares it with others',
    );
    expect(memory.stderr).not.toMatch(/\n\s+at /);
  });

  it('a worker whose Redis refuses the connection exits 1 and says so', async () => {
    const result = await runEntry(
      'main',
      {
        DISCORD_TOKEN: 'token',
        AIML_API_KEY: 'key',
        REDIS_URL: 'redis://127.0.0.1:1',
        TOKEN_ENCRYPTION_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',
      },
      ['--role', 'worker'],
    );
    expect(result.code).toBe(1);
    // The store is the default SQLite file in the (temporary) working directory, which a worker may
    // use only on one host: it says so before it reaches for Redis.
    expect(result.stdout).toContain('the store is SQLite: every gateway and worker must run on this host');
    expect(result.stdout).toMatch(/could not start: Redis \(REDIS_URL\) is unreachable: .*ECONNREFUSED/);
  });

  it('deploy-commands registers /music in DEV_GUILD_ID, with its limits', async () => {
    discord = await FakeDiscord.start();
    const guildId = '100000000000000001';
    const result = await runEntry('deploy', {
      DISCORD_TOKEN: discord.token,
      AIML_API_KEY: 'unused',
      DISCORD_API_URL: discord.apiUrl,
      DEV_GUILD_ID: guildId,
    });
    expect(result.stdout).toContain(
      `Registered 8 command(s) for server ${guildId}: /music, /compose, /lyrics, /tracks, /music-settings, /music-prefs, /listen, “Make a track from this” (message menu)`,
    );
    expect(result.code).toBe(0);
    const registered = discord.commands.guild.get(guildId) as {
      name: string;
      options: unknown[];
      default_member_permissions?: string;
    }[];
    expect(registered.map((c) => c.name)).toEqual([
      'music',
      'compose',
      'lyrics',
      'tracks',
      'music-settings',
      'music-prefs',
      'listen',
      'Make a track from this',
    ]);
    // Only members with Manage Server see the settings command by default.
    expect(registered[4]?.default_member_permissions).toBe('32');
    expect(registered[0]?.options).toEqual([
      expect.objectContaining({
        name: 'prompt',
        type: ApplicationCommandOptionType.String,
        required: true,
        max_length: 2000,
      }),
      expect.objectContaining({
        name: 'length',
        type: ApplicationCommandOptionType.Integer,
        min_value: 10,
        max_value: 300,
      }),
      expect.objectContaining({
        name: 'style',
        type: ApplicationCommandOptionType.String,
        autocomplete: true,
      }),
      expect.objectContaining({ name: 'instrumental', type: ApplicationCommandOptionType.Boolean }),
    ]);
    expect(registered[7]).toMatchObject({ type: 3, contexts: [0] });
    expect(discord.commands.global).toEqual([]);
  });

  it('deploy-commands registers globally without DEV_GUILD_ID', async () => {
    discord = await FakeDiscord.start();
    const result = await runEntry('deploy', {
      DISCORD_TOKEN: discord.token,
      AIML_API_KEY: 'unused',
      DISCORD_API_URL: discord.apiUrl,
    });
    expect(result.code).toBe(0);
    expect((discord.commands.global as { name: string }[]).map((c) => c.name)).toEqual([
      'music',
      'compose',
      'lyrics',
      'tracks',
      'music-settings',
      'music-prefs',
      'listen',
      'Make a track from this',
    ]);
  });

  it('the bot connects, then on SIGTERM closes the gateway and the store and exits 0 within 10 s', async () => {
    discord = await FakeDiscord.start();
    const aiml = await FakeAiml.start();
    const dataDir = await mkdtemp(join(tmpdir(), 'tracksmith-sigterm-'));
    try {
      const child = spawn(process.execPath, [await entryPoint('main')], {
        cwd: dataDir,
        env: {
          PATH: process.env.PATH ?? '',
          ...compileCacheEnv,
          DISCORD_TOKEN: discord.token,
          AIML_API_KEY: aiml.apiKey,
          AIML_API_URL: aiml.baseUrl,
          DISCORD_API_URL: discord.apiUrl,
          DATA_DIR: dataDir,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      const connected = new Promise<void>((resolve, reject) => {
        const read = (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('connected to Discord')) resolve();
        };
        child.stdout.on('data', read);
        child.stderr.on('data', read);
        child.once('exit', () => reject(new Error(`the bot exited before connecting:\n${output}`)));
      });
      const exited = new Promise<number | null>((done) => child.once('exit', done));
      await connected;
      expect(discord.sessions).toBe(1);

      child.kill('SIGTERM');
      // 0, not the 1 of the shutdown guard that fires after 10 s: the shutdown finished in time.
      expect(await exited).toBe(0);
      expect(output).toContain('"msg":"stopped"');
      expect(output).not.toContain(discord.token);
      expect(output).not.toContain(aiml.apiKey);
    } finally {
      await aiml.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
