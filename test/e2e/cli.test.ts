import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ApplicationCommandOptionType } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeDiscord } from '../fakes/discord.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const tsx = join(root, 'node_modules/.bin/tsx');

/** Runs an entry point with exactly `env` (no inherited variables) from an empty directory, so no .env is read. */
async function runEntry(entry: string, env: Record<string, string>) {
  const cwd = await mkdtemp(join(tmpdir(), 'tracksmith-cli-'));
  try {
    const { stdout, stderr } = await run(tsx, [join(root, entry)], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
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
    const result = await runEntry('src/main.ts', {});
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Invalid configuration:\n  - DISCORD_TOKEN is required\n  - AIML_API_KEY is required',
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('deploy-commands registers /music in DEV_GUILD_ID, with its limits', async () => {
    discord = await FakeDiscord.start();
    const guildId = '100000000000000001';
    const result = await runEntry('src/deploy.ts', {
      DISCORD_TOKEN: discord.token,
      AIML_API_KEY: 'unused',
      DISCORD_API_URL: discord.apiUrl,
      DEV_GUILD_ID: guildId,
    });
    expect(result.stdout).toContain(`Registered 2 command(s) for server ${guildId}: /music, /music-settings`);
    expect(result.code).toBe(0);
    const registered = discord.commands.guild.get(guildId) as {
      name: string;
      options: unknown[];
      default_member_permissions?: string;
    }[];
    expect(registered.map((c) => c.name)).toEqual(['music', 'music-settings']);
    // Only members with Manage Server see the settings command by default.
    expect(registered[1]?.default_member_permissions).toBe('32');
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
    ]);
    expect(discord.commands.global).toEqual([]);
  });

  it('deploy-commands registers globally without DEV_GUILD_ID', async () => {
    discord = await FakeDiscord.start();
    const result = await runEntry('src/deploy.ts', {
      DISCORD_TOKEN: discord.token,
      AIML_API_KEY: 'unused',
      DISCORD_API_URL: discord.apiUrl,
    });
    expect(result.code).toBe(0);
    expect((discord.commands.global as { name: string }[]).map((c) => c.name)).toEqual([
      'music',
      'music-settings',
    ]);
  });
});
