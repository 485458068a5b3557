import type { DispatchedInteraction, FakeDiscord, RecordedRequest } from '../fakes/discord.js';

type Json = Record<string, unknown>;

const callbackTypes: Record<number, string> = {
  4: 'reply',
  5: 'defer',
  6: 'deferred update',
  7: 'update',
  9: 'modal',
};

/**
 * What the fake Discord saw, as a reader would tell it: who did what, and every message the bot
 * sent in answer. `names` maps user IDs to the names used in the story.
 */
export function transcript(discord: FakeDiscord, names: Record<string, string>): string {
  const who = (id: string) => names[id] ?? id;
  const mentions = (text: string) => text.replace(/<@(\d+)>/g, (_, id: string) => `@${who(id)}`);
  const out: string[] = [];
  const byToken = new Map(discord.dispatched.map((d) => [d.token, d]));
  const label = (token: string | undefined) => {
    const d = token === undefined ? undefined : byToken.get(token);
    if (!d) return 'a message';
    const what = d.type === 2 ? `/${String(d.data.name)}` : d.type === 3 ? 'click' : 'form';
    return `${who(d.userId)}'s ${what}`;
  };

  let next = 0;
  const flushUntil = (count: number) => {
    while (next < discord.dispatched.length && (discord.dispatched[next]?.afterRequests ?? 0) <= count) {
      const d = discord.dispatched[next++];
      if (d) out.push(`→ ${who(d.userId)} ${describeInteraction(d)}`);
    }
  };
  discord.requests.forEach((r, index) => {
    flushUntil(index);
    const line = describeRequest(r, label);
    if (line) out.push(`  ← ${mentions(line)}`);
  });
  flushUntil(Number.POSITIVE_INFINITY);
  return out.join('\n');
}

function describeInteraction(d: DispatchedInteraction): string {
  const data = d.data;
  if (d.type === 2) {
    const options =
      (data.options as
        { name: string; value?: unknown; options?: { name: string; value?: unknown }[] }[] | undefined) ?? [];
    const flat = options.flatMap((o) =>
      o.options ? [{ name: o.name, value: undefined }, ...o.options] : [o],
    );
    const args = flat.map((o) => (o.value === undefined ? o.name : `${o.name}:${JSON.stringify(o.value)}`));
    return `/${String(data.name)} ${args.join(' ')}`.trim();
  }
  if (d.type === 3) return `clicks [${String(data.custom_id)}]`;
  if (d.type === 5) {
    const fields = (
      (data.components as { components: { custom_id: string; value: string }[] }[] | undefined) ?? []
    ).flatMap((row) => row.components.map((c) => `${c.custom_id}=${JSON.stringify(short(c.value))}`));
    return `submits form [${String(data.custom_id)}] ${fields.join(' ')}`;
  }
  return `interaction type ${d.type}`;
}

function describeRequest(
  r: RecordedRequest,
  label: (token: string | undefined) => string,
): string | undefined {
  const body = (r.body ?? {}) as Json;
  const status = r.status >= 400 ? ` → ${r.status}` : '';
  const callback = /^\/interactions\/\d+\/([^/]+)\/callback$/.exec(r.path);
  if (callback) {
    const type = Number(body.type);
    const data = (body.data ?? {}) as Json;
    const ephemeral = ((Number(data.flags) || 0) & 64) !== 0 ? ' (only they see it)' : '';
    const what = callbackTypes[type] ?? `type ${type}`;
    return `${what}${ephemeral}${describeMessage(data, r)}${status}`;
  }
  const edit = /^\/webhooks\/\d+\/([^/]+)\/messages\/@original$/.exec(r.path);
  if (edit && r.method === 'PATCH')
    return `edits ${label(edit[1])} reply:${describeMessage(body, r)}${status}`;
  if (r.method === 'DELETE' && r.path.startsWith('/channels/'))
    return `deletes message ${r.path.split('/').at(-1) ?? ''}${status}`;
  if (r.method === 'POST' && /^\/channels\/\d+\/messages$/.test(r.path))
    return `posts:${describeMessage(body, r)}${status}`;
  return undefined;
}

function describeMessage(data: Json, r: RecordedRequest): string {
  const parts: string[] = [];
  if (typeof data.title === 'string') parts.push(`"${data.title}"`);
  if (typeof data.content === 'string' && data.content !== '')
    parts.push(JSON.stringify(short(data.content)));
  for (const embed of (data.embeds as
    | {
        title?: string;
        description?: string;
        fields?: { name: string; value: string }[];
      }[]
    | undefined) ?? []) {
    const fields = (embed.fields ?? []).map((f) => `${f.name}: ${short(f.value, 120)}`).join(' | ');
    parts.push(
      `embed "${embed.title ?? ''}" ${JSON.stringify(short(embed.description ?? ''))}${fields ? ` {${fields}}` : ''}`,
    );
  }
  for (const file of r.files) parts.push(`file ${file.name} (${Math.round(file.data.length / 1024)} KiB)`);
  const rows = (data.components as { components?: Json[] }[] | undefined) ?? [];
  const controls = rows.flatMap((row) =>
    (row.components ?? []).filter((c) => c.type === 2).map((c) => `[${String(c.label)}]`),
  );
  const inputs = rows.flatMap((row) =>
    (row.components ?? [])
      .filter((c) => c.type === 4)
      .map(
        (c) => `${String(c.custom_id)}=${JSON.stringify(short(typeof c.value === 'string' ? c.value : ''))}`,
      ),
  );
  if (inputs.length > 0) parts.push(`fields ${inputs.join(' ')}`);
  else if (controls.length > 0) parts.push(controls.join(''));
  return parts.length === 0 ? '' : ` ${parts.join(' ')}`;
}

function short(text: string, max = 70): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
