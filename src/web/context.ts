import type { FastifyReply, FastifyRequest } from 'fastify';
import type { REST } from 'discord.js';
import type { SettingsService } from '../limits/settings-service.js';
import type { Logger } from '../log.js';
import type { TracksRepository } from '../store/tracks-repository.js';
import type { WebRepository, WebSession } from '../store/web-repository.js';
import type { AccessChecker, Access } from './access.js';
import { html, page, type Html, type PageOptions } from './html.js';

/** Everything the pages use; `createApp` builds it once. */
export interface WebContext {
  /** Where people reach the site; known once it listens when PUBLIC_URL is not set. */
  publicUrl: string;
  /** Browser-facing Discord (the authorize page and message links). */
  oauthUrl: string;
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  secureCookies: boolean;
  rest: REST;
  web: WebRepository;
  tracks: TracksRepository;
  settings: SettingsService;
  access: AccessChecker;
  /** The servers the gateway is in, when this process holds a gateway session. */
  botGuilds(): ReadonlySet<string> | undefined;
  logger: Logger;
  now(): number;
  limits: { signInPerMinute: number; postsPerMinute: number };
}

export const SESSION_COOKIE = 'ts_session';
export const STATE_COOKIE = 'ts_oauth_state';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in person, if any (set by the session hook). */
    user: (WebSession & { sessionId: string }) | null;
  }
}

export type MemberAccess = Extract<Access, { kind: 'member' }>;

/** Sends a small page with a status; every refusal and error looks like the rest of the site. */
export function sendPage(
  reply: FastifyReply,
  request: FastifyRequest,
  status: number,
  title: string,
  body: Html,
  /** A server's pages add their navigation; a page whose forms share one token passes it. */
  options: Pick<PageOptions, 'nav' | 'csrfToken'> = {},
): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(
      page({
        title,
        user: request.user ? { name: request.user.userName } : undefined,
        csrfToken: options.csrfToken ?? (request.user ? reply.generateCsrf() : undefined),
        ...(options.nav === undefined ? {} : { nav: options.nav }),
        body,
      }),
    );
}

export const notFound = (reply: FastifyReply, request: FastifyRequest): FastifyReply =>
  sendPage(
    reply,
    request,
    404,
    'Not found',
    html`<p>
        There is nothing here for you. If this is a server you are in, check that Tracksmith is in it too.
      </p>
      <p><a href="/servers">Your servers</a></p>`,
  );

/**
 * The server in the URL, if the signed-in person is a member of it in the bot's own view; otherwise
 * the reply is sent (sign in first, 404, or 403 for a page that needs Manage Server) and undefined
 * comes back.
 */
export async function guildAccess(
  context: WebContext,
  request: FastifyRequest<{ Params: { guildId: string } }>,
  reply: FastifyReply,
  need: 'member' | 'manage' = 'member',
): Promise<MemberAccess | undefined> {
  if (request.user === null) {
    await reply.redirect('/', 303);
    return undefined;
  }
  const access = await context.access.check(request.params.guildId, request.user.userId);
  if (access.kind === 'none') {
    await notFound(reply, request);
    return undefined;
  }
  if (need === 'manage' && !access.manageGuild) {
    await sendPage(
      reply,
      request,
      403,
      'Moderators only',
      html`<p>
          Changing Tracksmith's settings needs the <strong>Manage Server</strong> permission in
          ${access.guildName}.
        </p>
        <p><a href="/servers/${request.params.guildId}">Back to the gallery</a></p>`,
    );
    return undefined;
  }
  return access;
}

/** The tabs on every page of a server. */
export function serverNav(
  guildId: string,
  current: 'gallery' | 'usage' | 'settings' | 'track',
  manage: boolean,
) {
  const base = `/servers/${guildId}`;
  return [
    { href: base, label: 'Gallery', current: current === 'gallery' },
    { href: `${base}/usage`, label: 'Usage', current: current === 'usage' },
    ...(manage ? [{ href: `${base}/settings`, label: 'Settings', current: current === 'settings' }] : []),
  ];
}

/** Names of members by ID, looked up a few at a time (the bot's view, cached by the access checker). */
export async function namesOf(
  context: WebContext,
  guildId: string,
  userIds: Iterable<string>,
): Promise<Map<string, string>> {
  const ids = [...new Set(userIds)];
  const names = new Map<string, string>();
  for (let i = 0; i < ids.length; i += 5) {
    const slice = ids.slice(i, i + 5);
    const found = await Promise.all(
      slice.map((id) => context.access.displayName(guildId, id).catch(() => undefined)),
    );
    slice.forEach((id, j) => names.set(id, found[j] ?? 'a former member'));
  }
  return names;
}

export const guildIdParams = {
  type: 'object',
  required: ['guildId'],
  properties: { guildId: { type: 'string', pattern: '^[0-9]{17,20}$' } },
} as const;

export const trackParams = {
  type: 'object',
  required: ['guildId', 'n'],
  properties: {
    guildId: { type: 'string', pattern: '^[0-9]{17,20}$' },
    n: { type: 'integer', minimum: 1, maximum: 1_000_000_000 },
  },
} as const;
