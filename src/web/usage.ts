import type { FastifyInstance } from 'fastify';
import { utcDayStart } from '../limits/time.js';
import { guildAccess, guildIdParams, namesOf, sendPage, serverNav, type WebContext } from './context.js';
import { html, table, type Html } from './html.js';

const DAYS = 30;
const DAY_MS = 86_400_000;

/** `/servers/{id}/usage`: tracks and credits a day for 30 days, and the members who made most. */
export function usageRoutes(context: WebContext) {
  return (app: FastifyInstance, _options: unknown, done: () => void) => {
    app.get<{ Params: { guildId: string } }>(
      '/servers/:guildId/usage',
      { schema: { params: guildIdParams } },
      async (request, reply) => {
        const access = await guildAccess(context, request, reply);
        if (access === undefined) return reply;
        const { guildId } = request.params;
        const first = utcDayStart(context.now()) - (DAYS - 1) * DAY_MS;
        const [daily, top] = await Promise.all([
          context.web.dailyUsage(guildId, first),
          context.web.topMembers(guildId, first, 10),
        ]);
        const byDay = new Map(daily.map((d) => [d.day, d]));
        const days = Array.from({ length: DAYS }, (_, i) => {
          const day = first + i * DAY_MS;
          return { day, tracks: byDay.get(day)?.tracks ?? 0, credits: byDay.get(day)?.credits ?? 0 };
        });
        const names = await namesOf(
          context,
          guildId,
          top.map((t) => t.userId),
        );
        const body = html`<h2 id="tracks-title">Tracks a day</h2>
          ${barChart(
            days.map((d) => ({ day: d.day, value: d.tracks })),
            'tracks-title',
            'tracks',
          )}
          <h2 id="credits-title">Credits a day</h2>
          ${barChart(
            days.map((d) => ({ day: d.day, value: d.credits })),
            'credits-title',
            'credits',
          )}
          <h2>Top members, last 30 days</h2>
          ${
            top.length === 0
              ? html`<p>No tracks in the last 30 days.</p>`
              : table(
                  ['Member', 'Tracks', 'Credits'],
                  top.map((t) => [
                    names.get(t.userId),
                    t.tracks,
                    Math.round(t.credits).toLocaleString('en-US'),
                  ]),
                )
          }
          <details>
            <summary>The numbers by day</summary>
            ${table(
              ['Day (UTC)', 'Tracks', 'Credits'],
              days.map((d) => [
                new Date(d.day).toISOString().slice(0, 10),
                d.tracks,
                Math.round(d.credits).toLocaleString('en-US'),
              ]),
            )}
          </details>`;
        return sendPage(reply, request, 200, `${access.guildName} · usage`, body, {
          nav: serverNav(guildId, 'usage', access.manageGuild),
        });
      },
    );
    done();
  };
}

/** A bar per day as inline SVG (no script): each bar has a title a screen reader or hover reads. */
function barChart(points: { day: number; value: number }[], labelledBy: string, unit: string): Html {
  const width = 600;
  const height = 160;
  const bottom = 20;
  const max = Math.max(1, ...points.map((p) => p.value));
  const slot = width / points.length;
  return html`<svg class="chart" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${labelledBy}">
    ${points.map((p, i) => {
      const h = Math.round((p.value / max) * (height - bottom - 10));
      const date = new Date(p.day).toISOString().slice(5, 10);
      return html`<rect
          x="${(i * slot + 2).toFixed(1)}"
          y="${height - bottom - h}"
          width="${(slot - 4).toFixed(1)}"
          height="${h}"
          ><title>${date}: ${Math.round(p.value).toLocaleString('en-US')} ${unit}</title></rect
        >${i % 5 === 0 ? html`<text x="${(i * slot + 2).toFixed(1)}" y="${height - 5}">${date}</text>` : ''}`;
    })}
    <text x="${width - 4}" y="12" text-anchor="end">max ${Math.round(max).toLocaleString('en-US')}</text>
  </svg>`;
}
