import { DiscordAPIError, REST, Routes } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeDiscord } from './discord.js';
import { rejectionOf } from '../support/errors.js';

/**
 * The fake's sign-in, member and attachment routes, driven the way the web side and a browser drive
 * Discord's: the authorize page by its links, the token endpoint form-encoded with Basic auth, the
 * bot's lookups through discord.js's REST client.
 */
let fake: FakeDiscord;
let rest: REST;
const GUILD = '100000000000000001';
const ada = { id: '200000000000000001', username: 'ada', globalName: 'Ada L.' };

beforeEach(async () => {
  fake = await FakeDiscord.start({
    guilds: [
      {
        id: GUILD,
        name: 'Club',
        channels: [{ id: '100000000000000002' }],
        roles: [{ id: '300000000000000001', permissions: '32' }],
      },
    ],
  });
  fake.addUser(ada);
  rest = new REST({ api: fake.apiUrl, retries: 0, timeout: 2_000 }).setToken(fake.token);
});
afterEach(async () => {
  await fake.close();
});

const redirectUri = 'http://localhost:1234/auth/callback';
const authorize = (params: Record<string, string>) =>
  fetch(`${fake.baseUrl}/oauth2/authorize?${new URLSearchParams(params).toString()}`);
const good = {
  client_id: '110000000000000001',
  response_type: 'code',
  scope: 'identify guilds',
  redirect_uri: redirectUri,
  state: 'abcdefgh',
};

async function codeFor(): Promise<string> {
  const page = await (await authorize(good)).text();
  const href =
    /href="([^"]+)" data-user="200000000000000001"/.exec(page)?.[1]?.replaceAll('&#38;', '&') ?? '';
  const back = new URL(href);
  expect(back.searchParams.get('state')).toBe('abcdefgh');
  return back.searchParams.get('code') ?? '';
}

const exchange = (code: string, options: { secret?: string; redirect?: string } = {}) =>
  fetch(`${fake.apiUrl}/v10/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${fake.applicationId}:${options.secret ?? fake.clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: options.redirect ?? redirectUri,
    }),
  });

describe('fake Discord: OAuth2', () => {
  it('refuses an authorize request Discord would refuse', async () => {
    const bad = await authorize({ ...good, client_id: '1', scope: 'identify' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('unknown client_id; scope must include identify and guilds');
  });

  it('exchanges a code once, for the redirect it was issued to, with the client secret', async () => {
    expect((await exchange(await codeFor(), { secret: 'wrong' })).status).toBe(401);
    expect((await exchange(await codeFor(), { redirect: 'http://elsewhere/cb' })).status).toBe(400);
    const code = await codeFor();
    const token = (await (await exchange(code)).json()) as { access_token: string; token_type: string };
    expect(token.token_type).toBe('Bearer');
    expect((await exchange(code)).status).toBe(400);

    const bearer = { headers: { authorization: `Bearer ${token.access_token}` } };
    const me = (await (await fetch(`${fake.apiUrl}/v10/users/@me`, bearer)).json()) as {
      id: string;
      global_name: string;
    };
    expect([me.id, me.global_name]).toEqual([ada.id, 'Ada L.']);
    expect(await (await fetch(`${fake.apiUrl}/v10/users/@me/guilds`, bearer)).json()).toEqual([]);
    fake.addMember(GUILD, { userId: ada.id });
    const guilds = (await (await fetch(`${fake.apiUrl}/v10/users/@me/guilds`, bearer)).json()) as {
      id: string;
    }[];
    expect(guilds.map((g) => g.id)).toEqual([GUILD]);
    expect(
      (await fetch(`${fake.apiUrl}/v10/users/@me`, { headers: { authorization: 'Bearer nope' } })).status,
    ).toBe(401);
  });
});

describe('fake Discord: the bot’s lookups', () => {
  it('answers guild and member lookups, with Discord’s codes for unknown ones', async () => {
    const guild = (await rest.get(Routes.guild(GUILD))) as { roles: { id: string; permissions: string }[] };
    expect(guild.roles.map((r) => [r.id, r.permissions])).toEqual([
      [GUILD, '104324673'],
      ['300000000000000001', '32'],
    ]);
    const unknownMember = await rejectionOf(rest.get(Routes.guildMember(GUILD, ada.id)), DiscordAPIError);
    expect(unknownMember.code).toBe(10007);
    fake.addMember(GUILD, { userId: ada.id, roles: ['300000000000000001'], nick: 'Adi' });
    expect(await rest.get(Routes.guildMember(GUILD, ada.id))).toMatchObject({
      nick: 'Adi',
      roles: ['300000000000000001'],
    });
    expect((await rejectionOf(rest.get(Routes.guild('100000000000000099')), DiscordAPIError)).code).toBe(
      10004,
    );
  });

  it('signs attachment links that expire after 24 hours, refreshes them, and serves ranges', async () => {
    const message = (await rest.post(Routes.channelMessages('100000000000000002'), {
      body: { content: 'x' },
      files: [{ name: 'a.mp3', data: Buffer.from('0123456789'), contentType: 'audio/mpeg' }],
    })) as { attachments: { url: string }[] };
    const url = message.attachments[0]?.url ?? '';
    expect(new URL(url).searchParams.get('ex')).toMatch(/^[0-9a-f]+$/);
    const ranged = await fetch(url, { headers: { range: 'bytes=2-4' } });
    expect([ranged.status, ranged.headers.get('content-range'), await ranged.text()]).toEqual([
      206,
      'bytes 2-4/10',
      '234',
    ]);
    expect((await fetch(url, { headers: { range: 'bytes=20-' } })).status).toBe(416);
    expect((await fetch(url.replace(/hm=[0-9a-f]+/, 'hm=00'))).status).toBe(404);

    fake.advanceCdnClock(24 * 3_600_000 + 1_000);
    expect((await fetch(url)).status).toBe(404);
    const refreshed = (await rest.post('/attachments/refresh-urls', {
      body: { attachment_urls: [url] },
    })) as {
      refreshed_urls: { original: string; refreshed: string }[];
    };
    expect(refreshed.refreshed_urls[0]?.original).toBe(url);
    const fresh = await fetch(refreshed.refreshed_urls[0]?.refreshed ?? '');
    expect([fresh.status, await fresh.text()]).toEqual([200, '0123456789']);
    const invalid = await rejectionOf(
      rest.post('/attachments/refresh-urls', { body: { attachment_urls: [] } }),
      DiscordAPIError,
    );
    expect(invalid.code).toBe(50035);
  });
});
