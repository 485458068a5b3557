import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    env: ({ discord }) => ({
      WEB_PORT: '0',
      PUBLIC_URL: 'https://music.example.test',
      DISCORD_APPLICATION_ID: discord.applicationId,
      DISCORD_CLIENT_SECRET: discord.clientSecret,
      DISCORD_OAUTH_URL: discord.baseUrl,
    }),
  });
});
afterAll(async () => {
  await h.close();
});

describe('behind https', () => {
  it('marks cookies Secure, sends HSTS, and signs in back to PUBLIC_URL', async () => {
    expect(h.logs.text()).toContain('web listening on https://music.example.test');
    const response = await fetch(`${h.app.webLocalUrl ?? ''}/`);
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^ts_oauth_state=/);
    expect(cookie).toContain('; Secure');
    expect(cookie).toContain('; HttpOnly');
    expect(cookie).toContain('; SameSite=Lax');
    expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    const link = /href="([^"]*oauth2\/authorize[^"]*)"/
      .exec(await response.text())?.[1]
      ?.replaceAll('&amp;', '&');
    expect(new URL(link ?? '').searchParams.get('redirect_uri')).toBe(
      'https://music.example.test/auth/callback',
    );
  });
});
