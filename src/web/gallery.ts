import type { FastifyInstance } from 'fastify';
import { lengthText } from '../discord/render.js';
import type { TrackRecord } from '../domain/track.js';
import type { GalleryTrack } from '../store/web-repository.js';
import { isSnowflake } from './access.js';
import {
  guildAccess,
  guildIdParams,
  namesOf,
  notFound,
  sendPage,
  serverNav,
  trackParams,
  type WebContext,
} from './context.js';
import { html, type Html } from './html.js';

const PAGE_SIZE = 20;
const KIND_WORDS: Record<string, string> = {
  remix: 'Remix',
  regenerate: 'New take',
  compose: 'Song',
  music: 'Track',
};

/** `/servers`, a server's gallery, and one track with its family. */
export function galleryRoutes(context: WebContext) {
  return (app: FastifyInstance, _options: unknown, done: () => void) => {
    app.get('/servers', async (request, reply) => {
      const user = request.user;
      if (user === null) return reply.redirect('/', 303);
      const botGuilds = context.botGuilds();
      const candidates = user.guildIds
        .filter((id) => botGuilds === undefined || botGuilds.has(id))
        .slice(0, 100);
      const servers: { id: string; name: string }[] = [];
      for (let i = 0; i < candidates.length; i += 5) {
        const slice = candidates.slice(i, i + 5);
        const checked = await Promise.all(slice.map((id) => context.access.check(id, user.userId)));
        checked.forEach((access, j) => {
          if (access.kind === 'member') servers.push({ id: slice[j] ?? '', name: access.guildName });
        });
      }
      return sendPage(
        reply,
        request,
        200,
        'Your servers',
        servers.length === 0
          ? html`<p>
              None of your servers has Tracksmith yet, or Discord has not told the bot you are in them.
            </p>`
          : html`<ul class="cards">
              ${servers.map(
                (s) =>
                  html`<li class="card">
                    <h2><a href="/servers/${s.id}">${s.name}</a></h2>
                  </li>`,
              )}
            </ul>`,
      );
    });

    app.get<{ Params: { guildId: string }; Querystring: { page?: string; member?: string } }>(
      '/servers/:guildId',
      { schema: { params: guildIdParams } },
      async (request, reply) => {
        const access = await guildAccess(context, request, reply);
        if (access === undefined) return reply;
        const { guildId } = request.params;
        const pageNumber = Math.min(
          100_000,
          Math.max(1, Number.parseInt(request.query.page ?? '1', 10) || 1),
        );
        const member =
          request.query.member !== undefined && isSnowflake(request.query.member)
            ? request.query.member
            : undefined;
        const [{ tracks, total }, requesters] = await Promise.all([
          context.web.gallery(guildId, { userId: member }, (pageNumber - 1) * PAGE_SIZE, PAGE_SIZE),
          context.web.requesters(guildId, 25),
        ]);
        const names = await namesOf(context, guildId, [
          ...tracks.flatMap((t) => [t.track.userId, ...(t.parent ? [t.parent.userId] : [])]),
          ...requesters.map((r) => r.userId),
          ...(member ? [member] : []),
        ]);
        const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
        const link = (p: number) => `/servers/${guildId}?page=${p}${member ? `&member=${member}` : ''}`;
        const filterIds = requesters.map((r) => r.userId);
        if (member !== undefined && !filterIds.includes(member)) filterIds.push(member);
        const body = html`<form class="filter" method="get" action="/servers/${guildId}">
            <div>
              <label for="member">Member</label>
              <select id="member" name="member">
                <option value="">Everyone</option>
                ${filterIds.map((id) => html`<option value="${id}" ${id === member ? html` selected` : ''}>${names.get(id)}</option>`)}
              </select>
            </div>
            <button type="submit">Show</button>
          </form>
          <p class="meta">
            ${total.toLocaleString('en-US')}
            ${total === 1 ? 'track' : 'tracks'}${member ? html` by ${names.get(member)}` : ''}, newest first.
          </p>
          ${
            tracks.length === 0
              ? html`<p>No tracks yet. Make one in Discord with <code>/music</code>.</p>`
              : html`<ul class="cards">
                  ${tracks.map((t) => trackCard(guildId, t, names))}
                </ul>`
          }
          <nav class="pager" aria-label="Pages">
            ${pageNumber > 1 ? html`<a href="${link(pageNumber - 1)}" rel="prev">← Newer</a>` : html`<span></span>`}
            <span>Page ${pageNumber} of ${pages}</span>
            ${pageNumber < pages ? html`<a href="${link(pageNumber + 1)}" rel="next">Older →</a>` : html`<span></span>`}
          </nav>`;
        return sendPage(reply, request, 200, access.guildName, body, {
          nav: serverNav(guildId, 'gallery', access.manageGuild),
        });
      },
    );

    app.get<{ Params: { guildId: string; n: number } }>(
      '/servers/:guildId/tracks/:n',
      { schema: { params: trackParams } },
      async (request, reply) => {
        const access = await guildAccess(context, request, reply);
        if (access === undefined) return reply;
        const { guildId, n } = request.params;
        const listing = await context.tracks.byNumber(guildId, n);
        if (listing === undefined || listing.track.status !== 'completed') return notFound(reply, request);
        const { track } = listing;
        const [family, media] = await Promise.all([
          context.web.family(guildId, track.id),
          context.web.media(track.id),
        ]);
        const names = await namesOf(
          context,
          guildId,
          family.map((f) => f.userId),
        );
        const item: GalleryTrack = {
          track,
          parent: listing.parent && {
            trackNumber: listing.parent.trackNumber,
            userId: listing.parent.userId,
          },
          media,
        };
        const discordLink =
          media === undefined
            ? undefined
            : `${context.oauthUrl}/channels/${guildId}/${media.channelId}/${media.messageId}`;
        const body = html`<ul class="cards">
            ${trackCard(guildId, item, names, false)}
          </ul>
          ${discordLink ? html`<p><a href="${discordLink}">Open the message in Discord</a></p>` : ''}
          <h2>Family</h2>
          <p class="meta">The track it builds on, and every remix and new take made from it.</p>
          ${familyTree(guildId, family, track.id, names)}`;
        return sendPage(reply, request, 200, `${access.guildName} · #${n}`, body, {
          nav: serverNav(guildId, 'track', access.manageGuild),
        });
      },
    );
    done();
  };
}

function trackCard(guildId: string, item: GalleryTrack, names: Map<string, string>, heading = true): Html {
  const { track, parent, media } = item;
  const n = track.trackNumber ?? 0;
  const base = `/servers/${guildId}/tracks/${n}`;
  const lineage =
    parent && (track.kind === 'remix' || track.kind === 'regenerate')
      ? html`<p class="meta">
          ${track.kind === 'remix' ? 'Remix' : 'New take'} of
          ${
            parent.trackNumber === null
              ? 'an earlier request'
              : html`<a href="/servers/${guildId}/tracks/${parent.trackNumber}">#${parent.trackNumber}</a>`
          }
          by ${names.get(parent.userId)}
        </p>`
      : '';
  const deleted = track.deletedAt !== null;
  const player = deleted
    ? html`<p class="meta">Its message was deleted in Discord, so it cannot be played here.</p>`
    : media?.audioUrl != null
      ? html`<audio controls preload="none" src="${base}/audio.mp3" aria-label="Play track #${n}"></audio>`
      : html`<p class="meta">
          Delivered as a download link (too large for Discord), so it cannot be played here.
        </p>`;
  const picture =
    !deleted && media?.peaks != null
      ? html`<img
          class="wave"
          src="${base}/waveform.png"
          width="640"
          height="120"
          alt="Waveform of track #${n}"
          loading="lazy"
        />`
      : '';
  return html`<li class="card">
    ${heading ? html`<h2><a href="${base}">Track #${n}</a></h2>` : html`<h2>Track #${n}</h2>`}
    <p class="prompt">${track.prompt}</p>
    <p class="meta">
      ${KIND_WORDS[track.kind] ?? 'Track'} by ${names.get(track.userId)} ·
      ${lengthText(track.lengthSeconds, track.actualSeconds)} ·
      ${new Date(track.requestedAt).toISOString().slice(0, 10)}
    </p>
    ${lineage} ${picture} ${player}
  </li>`;
}

/** The family as nested lists from its root: indentation and connecting lines draw the tree. */
function familyTree(
  guildId: string,
  family: TrackRecord[],
  currentId: string,
  names: Map<string, string>,
): Html {
  const ids = new Set(family.map((f) => f.id));
  const children = new Map<string, TrackRecord[]>();
  for (const row of family) {
    if (row.parentId === null || !ids.has(row.parentId)) continue;
    const list = children.get(row.parentId) ?? [];
    list.push(row);
    children.set(row.parentId, list);
  }
  const root = family.find((f) => f.parentId === null || !ids.has(f.parentId));
  if (root === undefined) return html``;
  const node = (row: TrackRecord, depth: number): Html => {
    const kids = (children.get(row.id) ?? []).sort((a, b) => (a.trackNumber ?? 0) - (b.trackNumber ?? 0));
    const label = row.trackNumber === null ? 'an earlier request' : `#${row.trackNumber}`;
    const kind = KIND_WORDS[row.kind] ?? 'Track';
    const excerpt = row.prompt.length > 80 ? `${row.prompt.slice(0, 79)}…` : row.prompt;
    const current = row.id === currentId;
    const title =
      row.trackNumber === null || row.status !== 'completed'
        ? html`<strong>${label}</strong>`
        : html`<a
            href="/servers/${guildId}/tracks/${row.trackNumber}"
            ${current ? html` aria-current="page"` : ''}
            >${label}</a
          >`;
    return html`<li>
      <span class="node" ${current ? html` aria-current="true"` : ''}
        >${title} · ${kind} by ${names.get(row.userId)}: ${excerpt}</span
      >${
        kids.length > 0 && depth < 50
          ? html`<ul>
              ${kids.map((k) => node(k, depth + 1))}
            </ul>`
          : ''
      }
    </li>`;
  };
  return html`<ul class="tree" aria-label="Family tree">
    ${node(root, 0)}
  </ul>`;
}
