import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { SESSION_COOKIE, STATE_COOKIE, sendPage, type WebContext } from './context.js';
import { html } from './html.js';
import { authorizeUrl, exchangeCode, SignInError } from './oauth.js';

const SESSION_DAYS = 7;

/** `/`, the Discord sign-in round trip, and sign-out. */
export function authRoutes(context: WebContext) {
  // Read per request: without PUBLIC_URL the address is known only once the server listens.
  const oauthOptions = () => ({
    apiUrl: context.apiUrl,
    clientId: context.clientId,
    clientSecret: context.clientSecret,
    redirectUri: `${context.publicUrl}/auth/callback`,
  });
  const cookieBase = { path: '/', httpOnly: true, sameSite: 'lax', secure: context.secureCookies } as const;
  const signInLimit = { rateLimit: { max: context.limits.signInPerMinute, timeWindow: '1 minute' } };

  return (app: FastifyInstance, _options: unknown, done: () => void) => {
    app.get('/', async (request, reply) => {
      if (request.user !== null) return reply.redirect('/servers', 303);
      // The state ties the round trip to this browser: the callback only accepts the value this
      // cookie holds, so a link started elsewhere (or forged) signs nobody in.
      const state = randomBytes(18).toString('base64url');
      reply.setCookie(STATE_COOKIE, state, { ...cookieBase, signed: true, maxAge: 600 });
      return sendPage(
        reply,
        request,
        200,
        'Your server’s music',
        html`<p>
            Listen to the tracks your Discord servers made with Tracksmith, follow their remixes, and (for
            moderators) change the bot’s settings.
          </p>
          <p>
            <a class="button" href="${authorizeUrl(context.oauthUrl, oauthOptions(), state)}"
              >Sign in with Discord</a
            >
          </p>
          <p class="hint">
            Tracksmith reads your Discord name and which servers you are in. It keeps no Discord token.
          </p>`,
      );
    });

    app.get<{ Querystring: { code?: unknown; state?: unknown; error?: unknown } }>(
      '/auth/callback',
      { config: signInLimit },
      async (request, reply) => {
        const { code, state } = request.query;
        const cookie = request.cookies[STATE_COOKIE];
        const expected = cookie === undefined ? undefined : request.unsignCookie(cookie);
        reply.clearCookie(STATE_COOKIE, cookieBase);
        const again = html`<p><a class="button" href="/">Sign in again</a></p>`;
        if (typeof request.query.error === 'string') {
          return sendPage(
            reply,
            request,
            400,
            'Sign-in cancelled',
            html`<p>Discord did not sign you in.</p>
              ${again}`,
          );
        }
        if (
          typeof state !== 'string' ||
          typeof code !== 'string' ||
          code.length === 0 ||
          code.length > 200 ||
          expected?.valid !== true ||
          expected.value !== state
        ) {
          return sendPage(
            reply,
            request,
            400,
            'Sign-in not accepted',
            html`<p>
                This sign-in was not started in this browser, or it took too long. Nothing was signed in.
              </p>
              ${again}`,
          );
        }
        let person;
        try {
          person = await exchangeCode(oauthOptions(), code);
        } catch (error) {
          const message = error instanceof SignInError ? error.message : 'Discord could not be reached.';
          context.logger.warn({ reason: message }, 'a web sign-in failed');
          return sendPage(
            reply,
            request,
            502,
            'Sign-in failed',
            html`<p>${message}</p>
              ${again}`,
          );
        }
        const sessionId = randomBytes(32).toString('base64url');
        const now = context.now();
        await context.web.createSession(
          sessionId,
          {
            userId: person.userId,
            userName: person.name,
            guildIds: person.guildIds.slice(0, 500),
            expiresAt: now + SESSION_DAYS * 86_400_000,
          },
          now,
        );
        context.logger.info({ userId: person.userId }, 'signed in on the web');
        reply.setCookie(SESSION_COOKIE, sessionId, {
          ...cookieBase,
          signed: true,
          maxAge: SESSION_DAYS * 86_400,
        });
        return reply.redirect('/servers', 303);
      },
    );

    app.post(
      '/auth/signout',
      {
        config: { rateLimit: { max: context.limits.postsPerMinute, timeWindow: '1 minute' } },
        preHandler: (request, reply, next) => {
          app.csrfProtection(request, reply, next);
        },
      },
      async (request, reply) => {
        if (request.user !== null) await context.web.endSession(request.user.sessionId);
        reply.clearCookie(SESSION_COOKIE, cookieBase);
        return reply.redirect('/', 303);
      },
    );
    done();
  };
}
