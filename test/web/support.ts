import { ApplicationCommandOptionType } from 'discord.js';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { FakeMessage, RecordedRequest } from '../fakes/discord.js';
import { isFinalEdit, startHarness, type Harness } from '../support/harness.js';

/** Debian's chromium (installed by .ci/run); playwright's own download cannot reach the internet here. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const GUILD = '100000000000000001';
export const OTHER_GUILD = '100000000000000051';
export const MOD_ROLE = '300000000000000001';
export const people = {
  mod: { id: '200000000000000101', username: 'modmira', globalName: 'Mira (mod)' },
  member: { id: '200000000000000102', username: 'beatbo' },
  outsider: { id: '200000000000000103', username: 'outsider' },
} as const;

/** The bot with its web side on, between the fakes; three people who can sign in. */
export async function startWebHarness(
  options: { webLimits?: { signInPerMinute: number; postsPerMinute: number } } = {},
): Promise<Harness> {
  const h = await startHarness({
    discord: {
      guilds: [
        {
          id: GUILD,
          name: 'Synth Club',
          channels: [{ id: '100000000000000002', name: 'general' }],
          roles: [{ id: MOD_ROLE, name: 'Mods', permissions: String(1 << 5) }],
        },
        { id: OTHER_GUILD, name: 'Elsewhere', channels: [{ id: '100000000000000052', name: 'general' }] },
      ],
    },
    env: ({ discord }) => ({
      WEB_PORT: '0',
      WEB_HOST: '127.0.0.1',
      DISCORD_APPLICATION_ID: discord.applicationId,
      DISCORD_CLIENT_SECRET: discord.clientSecret,
      DISCORD_OAUTH_URL: discord.baseUrl,
    }),
    ...(options.webLimits ? { app: { webLimits: options.webLimits } } : {}),
  });
  for (const person of Object.values(people)) h.discord.addUser(person);
  h.discord.addMember(GUILD, { userId: people.mod.id, roles: [MOD_ROLE] });
  h.discord.addMember(GUILD, { userId: people.member.id });
  h.discord.addMember(OTHER_GUILD, { userId: people.outsider.id });
  return h;
}

export const webUrl = (h: Harness): string => {
  const url = h.app.webUrl;
  if (url === undefined) throw new Error('the web side did not start');
  // The address the site calls itself: its cookies and the OAuth redirect are for this host name.
  return url;
};

/** Signs in through the fake Discord's authorize page, as a browser does. */
export async function signIn(h: Harness, context: BrowserContext, userId: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(webUrl(h));
  await page.getByRole('link', { name: 'Sign in with Discord' }).click();
  await page.locator(`a[data-user="${userId}"]`).click();
  await page.waitForURL(/\/servers$/);
  return page;
}

type Person = { id: string; username: string };

/** /music in Discord, waited for until delivered. */
export async function makeTrack(
  h: Harness,
  user: Person,
  prompt: string,
  seconds = 10,
): Promise<FakeMessage> {
  const interaction = h.discord.chatInput({
    name: 'music',
    user,
    options: [
      { name: 'prompt', type: ApplicationCommandOptionType.String, value: prompt },
      { name: 'length', type: ApplicationCommandOptionType.Integer, value: seconds },
    ],
  });
  await h.discord.waitForRequest(isFinalEdit(interaction.token), 30_000);
  const message = h.discord.originalResponse(interaction.token);
  if (!message) throw new Error('no reply message');
  return message;
}

/** Remix on a track message, the modal filled in, waited for until delivered. */
export async function remixTrack(
  h: Harness,
  user: Person,
  parent: FakeMessage,
  prompt: string,
): Promise<FakeMessage> {
  const rows = parent.components as { components: { label?: string; custom_id: string }[] }[];
  const customId = rows.flatMap((r) => r.components).find((c) => c.label === 'Remix')?.custom_id;
  if (customId === undefined) throw new Error('no Remix button');
  const opened = h.discord.button({ user, customId, message: parent });
  const callback = await h.discord.waitForRequest((r) => r.path.startsWith(`/interactions/${opened.id}/`));
  const modal = (callback.body as { data?: { custom_id?: string } }).data;
  const submitted = h.discord.modalSubmit({
    user,
    customId: modal?.custom_id ?? '',
    message: parent,
    fields: [
      { customId: 'prompt', value: prompt },
      { customId: 'length', value: '10' },
    ],
  });
  await h.discord.waitForRequest(isFinalEdit(submitted.token), 30_000);
  const message = h.discord.originalResponse(submitted.token);
  if (!message) throw new Error('no reply message');
  return message;
}

export const isPost = (path: RegExp) => (r: RecordedRequest) => r.method === 'POST' && path.test(r.path);

/**
 * The parts of the page's elements the tests read inside `evaluate` (the project compiles without
 * the DOM library, so these stand in for HTMLAudioElement and HTMLImageElement).
 */
export interface AudioLike {
  duration: number;
  currentTime: number;
  preload: string;
  error: { code: number } | null;
  load(): void;
  play(): Promise<void>;
  pause(): void;
  addEventListener(type: string, listener: () => void, options?: { once: boolean }): void;
  removeEventListener(type: string, listener: () => void): void;
}
export interface ImageLike {
  complete: boolean;
  naturalWidth: number;
  naturalHeight: number;
}
export interface ElementLike {
  value: string;
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  remove(): void;
}
