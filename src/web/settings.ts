import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  NUMERIC_SETTINGS,
  numericChange,
  settingOption,
  type NumericSettingKey,
} from '../domain/settings.js';
import type { SettingsActor } from '../limits/settings-service.js';
import {
  guildAccess,
  guildIdParams,
  namesOf,
  sendPage,
  serverNav,
  type MemberAccess,
  type WebContext,
} from './context.js';
import { html, table } from './html.js';

type Params = {
  Params: { guildId: string };
  Body: Record<string, unknown> | undefined;
  Querystring: { saved?: string };
};

const numericEntries = Object.entries(NUMERIC_SETTINGS) as [
  NumericSettingKey,
  (typeof NUMERIC_SETTINGS)[NumericSettingKey],
][];

/**
 * `/servers/{id}/settings`: the same settings as `/music-settings`, through the same service, so
 * validation, messages and the audit trail are one implementation. Fields are named exactly as the
 * slash command's options.
 */
export function settingsRoutes(context: WebContext) {
  const postLimit = { rateLimit: { max: context.limits.postsPerMinute, timeWindow: '1 minute' } };

  const render = async (
    request: FastifyRequest<Params>,
    reply: FastifyReply,
    access: MemberAccess,
    notice?: { kind: 'good' | 'bad'; lines: string[] },
    status = 200,
  ) => {
    const { guildId } = request.params;
    const [settings, words, changes] = await Promise.all([
      context.settings.get(guildId),
      context.settings.blockedWords(guildId),
      context.settings.recentChanges(guildId, 10),
    ]);
    const names = await namesOf(
      context,
      guildId,
      changes.map((c) => c.userId),
    );
    const csrf = reply.generateCsrf();
    const body = html`${
        notice
          ? html`<div class="notice ${notice.kind}" role="${notice.kind === 'bad' ? 'alert' : 'status'}">
              ${notice.lines.map((l) => html`<p>${l}</p>`)}
            </div>`
          : ''
      }
      <form method="post" action="/servers/${guildId}/settings">
        <input type="hidden" name="_csrf" value="${csrf}" />
        <div class="settings">
          ${numericEntries.map(([key, spec]) => {
            const value = settings[key];
            const hint = `${spec.min.toLocaleString('en-US')} to ${spec.max.toLocaleString('en-US')}${spec.unit === 's' ? ' seconds' : ''}${spec.zeroDisables ? ', 0 = no cap' : ''}`;
            return html`<div>
              <label for="${spec.option}">${spec.label} <code>${spec.option}</code></label>
              <input
                id="${spec.option}"
                name="${spec.option}"
                type="number"
                inputmode="numeric"
                min="${spec.min}"
                max="${spec.max}"
                step="1"
                value="${value ?? 0}"
                aria-describedby="${spec.option}-hint"
                required
              />
              <p class="hint" id="${spec.option}-hint">${hint}</p>
            </div>`;
          })}
        </div>
        <p><button type="submit">Save settings</button></p>
      </form>
      <h2>Blocked words</h2>
      <p class="meta">Prompts containing these are refused.</p>
      ${
        words.length === 0
          ? html`<p>No words are blocked.</p>`
          : html`<ul class="words">
              ${words.map(
                (w) =>
                  html`<li>
                    <span>${w}</span>
                    <form method="post" action="/servers/${guildId}/settings/blocked-words/remove">
                      <input type="hidden" name="_csrf" value="${csrf}" /><input
                        type="hidden"
                        name="word"
                        value="${w}"
                      />
                      <button class="quiet" type="submit" aria-label="Allow ${w} again">✕</button>
                    </form>
                  </li>`,
              )}
            </ul>`
      }
      <form method="post" action="/servers/${guildId}/settings/blocked-words/add" class="filter">
        <input type="hidden" name="_csrf" value="${csrf}" />
        <div>
          <label for="word">Block a word or phrase</label
          ><input id="word" name="word" maxlength="50" required />
        </div>
        <button type="submit">Block</button>
      </form>
      <h2>Recent changes</h2>
      ${
        changes.length === 0
          ? html`<p>No changes yet.</p>`
          : table(
              ['When', 'Who', 'Setting', 'Change'],
              changes.map((c) => [
                `${new Date(c.changedAt).toISOString().replace('T', ' ').slice(0, 16)} UTC`,
                `${names.get(c.userId) ?? ''}${c.source === 'web' ? ' (on the web)' : ' (in Discord)'}`,
                settingOption(c.setting),
                `${c.oldValue ?? '?'} → ${c.newValue ?? '?'}`,
              ]),
            )
      }`;
    return sendPage(reply, request, status, `${access.guildName} · settings`, body, {
      nav: serverNav(guildId, 'settings', true),
      csrfToken: csrf,
    });
  };

  const actorOf = (request: FastifyRequest): SettingsActor => ({
    userId: request.user?.userId ?? '',
    source: 'web',
  });

  return (app: FastifyInstance, _options: unknown, done: () => void) => {
    // Every form POST: the server ID checked, the rate limit, and the CSRF token before anything runs.
    const guardedPost = {
      schema: { params: guildIdParams },
      config: postLimit,
      preHandler: (request: FastifyRequest, reply: FastifyReply, next: (error?: Error) => void) => {
        app.csrfProtection(request, reply, next);
      },
    };
    app.get<Params>(
      '/servers/:guildId/settings',
      { schema: { params: guildIdParams } },
      async (request, reply) => {
        const access = await guildAccess(context, request, reply, 'manage');
        if (access === undefined) return reply;
        const saved = request.query.saved;
        return render(
          request,
          reply,
          access,
          saved === undefined
            ? undefined
            : { kind: 'good', lines: [saved === '0' ? 'Nothing changed.' : 'Saved.'] },
        );
      },
    );

    app.post<Params>('/servers/:guildId/settings', guardedPost, async (request, reply) => {
      const access = await guildAccess(context, request, reply, 'manage');
      if (access === undefined) return reply;
      const form = request.body ?? {};
      // A number field sends text; anything but a plain whole number becomes NaN and gets the
      // same message as a bad slash-command value.
      const change = numericChange(
        (option) => form[option],
        (raw) => (typeof raw === 'string' && /^\s*-?\d{1,12}\s*$/.test(raw) ? Number(raw) : Number.NaN),
      );
      const outcome = await context.settings.change(
        request.params.guildId,
        change,
        actorOf(request),
        context.now(),
      );
      if (!outcome.ok) {
        return render(
          request,
          reply,
          access,
          { kind: 'bad', lines: ['Nothing was changed:', ...outcome.problems] },
          400,
        );
      }
      return reply.redirect(
        `/servers/${request.params.guildId}/settings?saved=${outcome.changes.length}`,
        303,
      );
    });

    for (const verb of ['add', 'remove'] as const) {
      app.post<Params>(
        `/servers/:guildId/settings/blocked-words/${verb}`,
        guardedPost,
        async (request, reply) => {
          const access = await guildAccess(context, request, reply, 'manage');
          if (access === undefined) return reply;
          const word = request.body?.word;
          const { guildId } = request.params;
          const outcome =
            verb === 'add'
              ? await context.settings.addBlockedWord(guildId, word, actorOf(request), context.now())
              : await context.settings.removeBlockedWord(guildId, word);
          if (!outcome.ok)
            return render(request, reply, access, { kind: 'bad', lines: [outcome.problem] }, 400);
          return reply.redirect(`/servers/${guildId}/settings?saved=${outcome.changed ? 1 : 0}`, 303);
        },
      );
    }
    done();
  };
}
