import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { authRoutes } from './auth.js';
import { SESSION_COOKIE, sendPage, type WebContext } from './context.js';
import { galleryRoutes } from './gallery.js';
import { html } from './html.js';
import { mediaRoutes } from './media.js';
import { settingsRoutes } from './settings.js';
import { SITE_CSS } from './style.js';
import { usageRoutes } from './usage.js';

export interface WebServer {
  /** The public address (PUBLIC_URL, or localhost and the port). */
  readonly url: string;
  /** Where it actually listens. */
  readonly localUrl: string;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/** Builds the web side (not listening): one plugin per group of pages. */
async function buildWebApp(context: WebContext): Promise<FastifyInstance> {
  const app = Fastify({
    // No request log: its lines would carry the OAuth code in the callback's query. Errors are
    // logged by the error handler below, without the query.
    logger: false,
    // Behind TLS the site sits behind a proxy on the same host; client IPs for rate limits come from it.
    trustProxy: context.secureCookies ? 'loopback' : false,
    bodyLimit: 64 * 1024,
  });
  // Cookies are signed with a key derived from the client secret: every web host shares it, and
  // the secret itself is never sent anywhere.
  const cookieKey = createHmac('sha256', context.clientSecret).update('tracksmith web cookies').digest('hex');
  await app.register(fastifyCookie, { secret: cookieKey });
  await app.register(fastifyFormbody);
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'ts_csrf',
    cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', secure: context.secureCookies, signed: true },
  });
  await app.register(fastifyRateLimit, { global: false });
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        mediaSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    hsts: context.secureCookies,
    crossOriginEmbedderPolicy: false,
    referrerPolicy: { policy: 'same-origin' },
  });

  app.decorateRequest('user', null);
  app.addHook('onRequest', async (request) => {
    const raw = request.cookies[SESSION_COOKIE];
    if (raw === undefined) return;
    const unsigned = request.unsignCookie(raw);
    if (!unsigned.valid) return;
    const session = await context.web.session(unsigned.value, context.now());
    request.user = session === undefined ? null : { ...session, sessionId: unsigned.value };
  });

  app.setErrorHandler(async (error: Partial<FastifyError>, request, reply) => {
    if (error.validation !== undefined) {
      return sendPage(
        reply,
        request,
        404,
        'Not found',
        html`<p>That address does not name anything here.</p>`,
      );
    }
    if (error.code?.startsWith('FST_CSRF') === true) {
      return sendPage(
        reply,
        request,
        403,
        'Form expired',
        html`<p>
          This form did not come from this site or has expired, so nothing was changed. Go back, reload the
          page and try again.
        </p>`,
      );
    }
    if (error.statusCode === 429) {
      return sendPage(
        reply,
        request,
        429,
        'Slow down',
        html`<p>Too many tries in a short time. Wait a minute and try again.</p>`,
      );
    }
    context.logger.error({ err: error, url: request.routeOptions.url }, 'web request failed');
    return sendPage(
      reply,
      request,
      500,
      'Something went wrong',
      html`<p>The page could not be made. Try again in a moment.</p>`,
    );
  });
  app.setNotFoundHandler(async (request, reply) =>
    sendPage(
      reply,
      request,
      404,
      'Not found',
      html`<p>There is no page here. <a href="/servers">Your servers</a></p>`,
    ),
  );

  app.get('/favicon.ico', async (_request, reply) =>
    reply.code(204).header('cache-control', 'public, max-age=86400').send(),
  );
  app.get('/static/site.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(SITE_CSS),
  );

  await app.register(authRoutes(context));
  await app.register(galleryRoutes(context));
  await app.register(mediaRoutes(context));
  await app.register(usageRoutes(context));
  await app.register(settingsRoutes(context));
  return app;
}

export async function startWebServer(
  context: WebContext,
  listen: { port: number; host: string },
): Promise<WebServer> {
  const app = await buildWebApp(context);
  await app.listen({ port: listen.port, host: listen.host });
  const { port } = app.server.address() as AddressInfo;
  if (context.publicUrl === '') context.publicUrl = `http://localhost:${port}`;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return { url: context.publicUrl, localUrl: `http://${host}:${port}`, app, close: () => app.close() };
}
