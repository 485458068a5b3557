import { ApplicationCommandOptionType, InteractionResponseType, MessageFlags } from 'discord.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeMessage, RecordedRequest } from '../fakes/discord.js';
import { isFinalEdit, startHarness, type Harness } from '../support/harness.js';

const member = { id: '200000000000000042', username: 'riffmaker' };
const other = { id: '200000000000000043', username: 'harmony' };
const manageGuild = '32';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(options?: Parameters<typeof startHarness>[0]): Promise<Harness> {
  harness = await startHarness(options);
  return harness;
}

type Option = { name: string; type: number; value?: unknown; focused?: boolean; options?: Option[] };
const str = (name: string, value: unknown): Option => ({
  name,
  type: ApplicationCommandOptionType.String,
  value,
});
const int = (name: string, value: unknown): Option => ({
  name,
  type: ApplicationCommandOptionType.Integer,
  value,
});
const bool = (name: string, value: unknown): Option => ({
  name,
  type: ApplicationCommandOptionType.Boolean,
  value,
});

type Embed = {
  title?: string;
  description?: string;
  fields?: { name: string; value: string }[];
  footer?: { text: string };
};
type Body = {
  type?: number;
  content?: string;
  embeds?: Embed[];
  components?: {
    components: { custom_id?: string; label?: string; value?: string; max_length?: number }[];
  }[];
  data?: {
    custom_id?: string;
    title?: string;
    content?: string;
    flags?: number;
    embeds?: Embed[];
    choices?: { name: string; value: string }[];
    components?: { components: { custom_id: string; label: string; value?: string; max_length: number }[] }[];
  };
  flags?: number;
};
const bodyOf = (r: RecordedRequest) => r.body as Body;

function command(h: Harness, name: string, options: Option[], user = member, permissions?: string) {
  return h.discord.chatInput({
    name,
    user,
    options: options as never,
    ...(permissions ? { permissions } : {}),
  });
}

/** The interaction's first answer (reply, defer, modal or choices). */
/** `/music-settings` with one subcommand, from a member with Manage Server. */
const asModerator = (h: Harness, subcommand: Option) =>
  command(h, 'music-settings', [subcommand], member, manageGuild);

function firstAnswer(h: Harness, interaction: { id: string }): Promise<Body> {
  return h.discord
    .waitForRequest((r) => r.method === 'POST' && r.path.startsWith(`/interactions/${interaction.id}/`))
    .then(bodyOf);
}

/** The first edit of a reply that carries an embed: a draft, or a track's final card. */
/** A moderator blocks a word, and the bot has answered. */
const blockWord = (h: Harness, word: string) =>
  firstAnswer(
    h,
    asModerator(h, {
      name: 'blocked-words',
      type: 2,
      options: [{ name: 'add', type: 1, options: [str('word', word)] }],
    }),
  );

async function embedEdit(h: Harness, token: string): Promise<Body> {
  return bodyOf(await h.discord.waitForRequest(isFinalEdit(token)));
}

const fields = (embed: Embed | undefined) =>
  Object.fromEntries((embed?.fields ?? []).map((f) => [f.name, f.value]));
const customIds = (body: Body) =>
  (body.components ?? []).flatMap((row) => row.components.map((c) => c.custom_id));
const chatCalls = (h: Harness) => h.aiml.requests.filter((r) => r.route === 'chat');
const creates = (h: Harness) => h.aiml.requests.filter((r) => r.route === 'create');

/** /lyrics through to its posted draft. */
async function draft(h: Harness, idea: string, style?: string, user = member) {
  const interaction = command(
    h,
    'lyrics',
    [str('idea', idea), ...(style ? [str('style', style)] : [])],
    user,
  );
  const deferred = await firstAnswer(h, interaction);
  expect(deferred.type).toBe(InteractionResponseType.DeferredChannelMessageWithSource);
  expect((deferred.data?.flags ?? 0) & MessageFlags.Ephemeral).toBe(0);
  const posted = await embedEdit(h, interaction.token);
  return { interaction, posted, message: h.discord.originalResponse(interaction.token)! };
}

/** Presses a button and returns the modal it opened. */
async function openModal(h: Harness, message: FakeMessage, customId: string, user = member) {
  const press = h.discord.button({ customId, message, user });
  const answer = await firstAnswer(h, press);
  expect(answer.type).toBe(InteractionResponseType.Modal);
  const inputs = Object.fromEntries(
    (answer.data?.components ?? []).map((row) => [row.components[0]!.custom_id, row.components[0]!]),
  );
  return { customId: answer.data!.custom_id!, inputs };
}

describe('lyrics drafts', () => {
  it('drafts lyrics with one model call, and Make this song takes them to a delivered track with a Lyrics button', async () => {
    const h = await start({ env: { AIML_LYRICS_MODEL: 'test-lyrics-model' } });
    const { posted, message } = await draft(h, 'a lighthouse keeper in love', 'Sea shanty');

    expect(chatCalls(h)).toHaveLength(1);
    const call = chatCalls(h)[0]!;
    expect(call.headers.authorization).toBe(`Bearer ${h.aiml.apiKey}`);
    const sent = call.body as { model: string; messages: { role: string; content: string }[] };
    expect(sent.model).toBe('test-lyrics-model');
    expect(sent.messages.at(-1)?.content).toBe('Idea: a lighthouse keeper in love\nStyle: Sea shanty');
    expect(sent.messages[0]?.content).toMatch(/\[Verse 1\], \[Chorus\]/);

    const embed = posted.embeds?.[0];
    expect(embed?.title).toBe('📝 Lyrics draft');
    const lyrics = embed!.description!;
    // Every line the model wrote is there, in order.
    expect(lyrics).toContain(
      '[Verse 1]\nWe wrote it down: Idea: a lighthouse keeper in love Style: Sea shanty',
    );
    expect(lyrics).toContain('[Chorus]\nSing it back to me tonight\nEvery word will turn out right');
    expect(fields(embed)).toMatchObject({ Idea: 'a lighthouse keeper in love', Style: 'Sea shanty' });
    expect(posted.components?.[0]?.components.map((c) => c.label)).toEqual(['Make this song', 'Redraft']);

    // Someone else in the channel picks it up.
    const [make] = customIds(posted);
    const modal = await openModal(h, message, make!, other);
    expect(modal.inputs.lyrics?.label).toBe('Lyrics');
    expect(modal.inputs.lyrics?.value).toBe(lyrics);
    expect(modal.inputs.style?.value).toBe('Sea shanty');
    for (const input of Object.values(modal.inputs)) {
      expect((input.value ?? '').length).toBeLessThanOrEqual(input.max_length);
    }
    const submit = h.discord.modalSubmit({
      customId: modal.customId,
      user: other,
      fields: [
        { customId: 'style', value: 'Sea shanty' },
        { customId: 'lyrics', value: lyrics },
        { customId: 'vocals', value: '' },
        { customId: 'length', value: '20' },
      ],
    });
    const card = await embedEdit(h, submit.token);
    const prompt = (creates(h)[0]?.body as { prompt: string }).prompt;
    expect(prompt).toBe(`Sea shanty\n\nLyrics:\n${lyrics}`);
    for (const line of lyrics.split('\n')) expect(prompt).toContain(line);
    expect(fields(card.embeds?.[0]).Style).toBe('Sea shanty');
    // The track's own buttons, then a second row that shows more of it.
    expect(card.components?.map((row) => row.components.map((c) => c.label))).toEqual([
      ['Regenerate', 'Remix', 'Delete'],
      ['Lyrics', 'Play in voice'],
    ]);

    const lyricsButton = card.components![1]!.components[0]!.custom_id!;
    const read = h.discord.button({
      customId: lyricsButton,
      message: h.discord.originalResponse(submit.token)!,
      user: member,
    });
    const shown = await firstAnswer(h, read);
    expect(shown.type).toBe(InteractionResponseType.ChannelMessageWithSource);
    expect(shown.data?.flags).toBe(MessageFlags.Ephemeral);
    expect(shown.data?.embeds?.[0]?.title).toBe('Lyrics of track #1');
    expect(shown.data?.embeds?.[0]?.description).toBe(lyrics);

    // A new take of it keeps the words, the style and the Lyrics button.
    const again = h.discord.button({
      customId: customIds(card).find((id) => id?.startsWith('track:regenerate:'))!,
      message: h.discord.originalResponse(submit.token)!,
      user: member,
    });
    const retake = await embedEdit(h, again.token);
    expect((creates(h)[1]?.body as { prompt: string }).prompt).toBe(prompt);
    expect(fields(retake.embeds?.[0]).Style).toBe('Sea shanty');
    expect(retake.components?.[1]?.components.map((c) => c.label)).toEqual(['Lyrics', 'Play in voice']);
  });

  it('Redraft makes a new draft message with the same buttons from the same idea', async () => {
    const h = await start({ env: { HTTP_PORT: '0' } });
    h.aiml.chatScript({ content: '[Verse]\nFirst take' });
    h.aiml.chatScript({ content: '[Verse]\nSecond take\n[Chorus]\nStill here' });
    const { posted, message } = await draft(h, 'rain on the tin roof');
    expect(posted.embeds?.[0]?.description).toBe('[Verse]\nFirst take');
    const redraft = h.discord.button({ customId: customIds(posted)[1]!, message, user: other });
    const deferred = await firstAnswer(h, redraft);
    expect(deferred.type).toBe(InteractionResponseType.DeferredChannelMessageWithSource);
    const second = await embedEdit(h, redraft.token);
    expect(second.embeds?.[0]?.description).toBe('[Verse]\nSecond take\n[Chorus]\nStill here');
    expect(fields(second.embeds?.[0]).Idea).toBe('rain on the tin roof');
    expect(second.components?.[0]?.components.map((c) => c.label)).toEqual(['Make this song', 'Redraft']);
    // A new message: the first draft is still there as it was.
    expect(h.discord.originalResponse(redraft.token)!.id).not.toBe(message.id);
    expect(chatCalls(h)).toHaveLength(2);
    const rows = await h.app.database.db
      .selectFrom('lyrics_drafts')
      .select(['user_id', 'status'])
      .orderBy('requested_at')
      .execute();
    expect(rows).toEqual([
      { user_id: member.id, status: 'drafted' },
      { user_id: other.id, status: 'drafted' },
    ]);
    const metrics = await (await fetch(`${h.app.httpUrl!}/metrics`)).text();
    expect(metrics).toContain('tracksmith_lyrics_drafts_total{outcome="drafted"} 2');
  });

  it('refuses tampered draft and Lyrics buttons privately', async () => {
    const h = await start();
    const { message } = await draft(h, 'a tidy idea');
    const unknown = await firstAnswer(
      h,
      h.discord.button({ customId: 'lyrics:make:not-a-draft', message, user: member }),
    );
    expect(unknown.data).toMatchObject({
      flags: MessageFlags.Ephemeral,
      content: 'That draft is not in this server’s history, so this button does nothing.',
    });
    const made = command(h, 'music', [str('prompt', 'no words here')]);
    const card = await embedEdit(h, made.token);
    const trackId = customIds(card)[0]!.split(':')[2]!;
    const noLyrics = await firstAnswer(
      h,
      h.discord.button({
        customId: `track:lyrics:${trackId}`,
        message: h.discord.originalResponse(made.token)!,
        user: member,
      }),
    );
    expect(noLyrics.data?.content).toBe('This track was not made from lyrics, so there are none to show.');
    expect(chatCalls(h)).toHaveLength(1);
  });

  it('refuses an idea with a blocked word privately, with no model call', async () => {
    const h = await start();
    await blockWord(h, 'kraken');
    const refused = await firstAnswer(h, command(h, 'lyrics', [str('idea', 'The KRAKEN wakes')]));
    expect(refused.data?.flags).toBe(MessageFlags.Ephemeral);
    expect(refused.data?.content).toBe(
      'This server does not allow the word "kraken". Reword your idea and try again.',
    );
    // A later draft proves the refused one never reached the model.
    await draft(h, 'a calm sea');
    expect(chatCalls(h)).toHaveLength(1);
  });

  it('shows nobody a draft whose lyrics hold a blocked word: the thinking reply goes and the member is told privately', async () => {
    const h = await start();
    await blockWord(h, 'kraken');
    h.aiml.chatScript({ content: '[Verse]\nThe Kraken rises from the deep', creditsUsed: 30 });
    const interaction = command(h, 'lyrics', [str('idea', 'a sea monster')]);
    const deleted = await h.discord.waitForRequest(
      (r) => r.method === 'DELETE' && r.path.endsWith(`/${interaction.token}/messages/@original`),
    );
    expect(deleted.status).toBe(204);
    const followUp = await h.discord.waitForRequest(
      (r) => r.method === 'POST' && r.path.includes(`/webhooks/`) && r.path.endsWith(interaction.token),
    );
    expect(bodyOf(followUp).flags).toBe(MessageFlags.Ephemeral);
    expect(bodyOf(followUp).content).toBe(
      'The draft held a word this server blocks ("kraken"), so nobody was shown it. Try a different idea.',
    );
    expect(h.discord.originalResponse(interaction.token)).toBeUndefined();
    // No edit ever showed the lyrics.
    expect(
      h.discord.requests.some(
        (r) => r.path.endsWith(`/${interaction.token}/messages/@original`) && r.method === 'PATCH',
      ),
    ).toBe(false);
    const row = await h.app.database.db
      .selectFrom('lyrics_drafts')
      .select(['status', 'lyrics', 'credits_used'])
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'blocked', lyrics: null, credits_used: 30 });
  });

  it('keeps to the daily lyrics allowance moderators set, refusing privately with no model call', async () => {
    const h = await start();
    const set = await firstAnswer(
      h,
      asModerator(h, { name: 'set', type: 1, options: [int('lyrics-daily', 1)] }),
    );
    expect(set.data?.content).toContain('**lyrics-daily**: 20 → 1');
    await draft(h, 'first idea');
    const refused = await firstAnswer(h, command(h, 'lyrics', [str('idea', 'second idea')]));
    expect(refused.data?.flags).toBe(MessageFlags.Ephemeral);
    expect(refused.data?.content).toMatch(
      /^You have used all 1 of your lyrics drafts for today on this server; the count resets <t:\d+:R>\.$/,
    );
    // Another member still has theirs, and the model saw exactly two calls.
    await draft(h, 'their idea', undefined, other);
    expect(chatCalls(h)).toHaveLength(2);
  });

  it('counts draft credits toward the server budget', async () => {
    const h = await start();
    await firstAnswer(h, asModerator(h, { name: 'set', type: 1, options: [int('monthly-credits', 50)] }));
    h.aiml.chatScript({ creditsUsed: 50 });
    await draft(h, 'an expensive idea');
    const usage = await firstAnswer(h, asModerator(h, { name: 'usage', type: 1 }));
    expect(usage.data?.embeds?.[0]?.description).toContain('50 of 50 credits');
    const music = await firstAnswer(h, command(h, 'music', [str('prompt', 'anything')]));
    expect(music.data?.content).toMatch(/^This server has spent its 50 credits for this month/);
    expect(creates(h)).toHaveLength(0);
  });

  it('retries a chat fault, and explains one it cannot get past', async () => {
    const h = await start();
    h.aiml.failNext('chat', { status: 503, times: 2 });
    const { posted } = await draft(h, 'second wind');
    expect(posted.embeds?.[0]?.title).toBe('📝 Lyrics draft');
    expect(chatCalls(h).map((r) => r.status)).toEqual([503, 503, 200]);

    h.aiml.failNext('chat', { status: 401 });
    const refused = command(h, 'lyrics', [str('idea', 'no key')]);
    const edit = await h.discord.waitForRequest(
      (r) => r.method === 'PATCH' && r.path.endsWith(`/${refused.token}/messages/@original`),
    );
    expect(bodyOf(edit).content).toBe(
      "⚠️ No lyrics this time. The lyrics service rejected this bot's API key, so no lyrics draft can be made. Please tell the bot's owner.",
    );
    // A permanent failure is not retried, and the failed draft gives its allowance back.
    expect(chatCalls(h)).toHaveLength(4);
    const failed = await h.app.database.db
      .selectFrom('lyrics_drafts')
      .select('status')
      .where('idea', '=', 'no key')
      .executeTakeFirstOrThrow();
    expect(failed.status).toBe('failed');

    h.aiml.failNext('chat', { status: 503, times: 10 });
    const down = command(h, 'lyrics', [str('idea', 'outage')]);
    const downEdit = await h.discord.waitForRequest(
      (r) => r.method === 'PATCH' && r.path.endsWith(`/${down.token}/messages/@original`),
    );
    expect(bodyOf(downEdit).content).toBe(
      '⚠️ No lyrics this time. The lyrics service is not responding right now. Please try again in a few minutes.',
    );
    expect(chatCalls(h)).toHaveLength(8);
  });
});

describe('a track from a message', () => {
  it('opens the compose form with the message text, credits its author without a ping, and shows it in the lineage', async () => {
    const h = await start();
    const text = 'We sail at dawn\nwith nothing but a song';
    const source = h.discord.postUserMessage({
      author: { id: '200000000000000077', username: 'ben' },
      content: text,
    });
    const menu = h.discord.messageCommand({ name: 'Make a track from this', message: source, user: member });
    const answer = await firstAnswer(h, menu);
    expect(answer.type).toBe(InteractionResponseType.Modal);
    const lyricsInput = answer.data?.components?.find((row) => row.components[0]?.custom_id === 'lyrics')
      ?.components[0];
    expect(lyricsInput?.value).toBe(text);
    expect(lyricsInput?.label).toBe('Lyrics');

    const submit = h.discord.modalSubmit({
      customId: answer.data!.custom_id!,
      user: member,
      fields: [
        { customId: 'style', value: 'Sea shanty, big choir' },
        { customId: 'lyrics', value: text },
        { customId: 'vocals', value: '' },
        { customId: 'length', value: '' },
      ],
    });
    const card = await embedEdit(h, submit.token);
    const link = `https://discord.com/channels/100000000000000001/${source.channel_id}/${source.id}`;
    expect(fields(card.embeds?.[0]).Lyrics).toBe(`Lyrics from a message by @ben · [message](${link})`);
    const final = h.discord.originalResponse(submit.token)!;
    expect(final.allowed_mentions).toEqual({ parse: [] });
    expect((creates(h)[0]?.body as { prompt: string }).prompt).toBe(
      `Sea shanty, big choir\n\nLyrics:\n${text}`,
    );

    // A remix of it names the credit in its lineage, and /tracks shows it.
    const remixId = customIds(card).find((id) => id?.startsWith('track:remix:'))!;
    const remix = await openModal(h, final, remixId, other);
    const remixed = h.discord.modalSubmit({
      customId: remix.customId,
      user: other,
      fields: [
        { customId: 'prompt', value: `${remix.inputs.prompt!.value!} (slower)` },
        { customId: 'length', value: '12' },
      ],
    });
    await embedEdit(h, remixed.token);
    const recent = await firstAnswer(h, command(h, 'tracks', [{ name: 'recent', type: 1 }]));
    expect(recent.data?.embeds?.[0]?.description).toContain('lyrics from a message by @ben');
    const shown = await firstAnswer(
      h,
      command(h, 'tracks', [{ name: 'show', type: 1, options: [int('number', 2)] }]),
    );
    expect(fields(shown.data?.embeds?.[0])['Builds on']).toBe(
      `Remix of #1 by <@${member.id}> (lyrics from a message by @ben · [message](${link}))`,
    );
    const first = await firstAnswer(
      h,
      command(h, 'tracks', [{ name: 'show', type: 1, options: [int('number', 1)] }]),
    );
    expect(fields(first.data?.embeds?.[0]).Lyrics).toBe(`Lyrics from a message by @ben · [message](${link})`);
  });

  it('hands the text back when the message is deleted before the form comes back', async () => {
    const h = await start();
    const source = h.discord.postUserMessage({
      author: { id: '200000000000000077', username: 'ben' },
      content: 'Gone by morning',
    });
    const answer = await firstAnswer(
      h,
      h.discord.messageCommand({ name: 'Make a track from this', message: source, user: member }),
    );
    h.discord.messages.delete(source.id);
    const submit = h.discord.modalSubmit({
      customId: answer.data!.custom_id!,
      user: member,
      fields: [
        { customId: 'style', value: 'Folk' },
        { customId: 'lyrics', value: 'Gone by morning' },
        { customId: 'vocals', value: '' },
        { customId: 'length', value: '' },
      ],
    });
    const refusal = await h.discord.waitForRequest((r) => r.path.startsWith(`/interactions/${submit.id}/`));
    expect(bodyOf(refusal).data?.content).toBe(
      'The message these lyrics came from is gone or out of reach, so the track cannot credit it.\nYour text is attached so nothing is lost.',
    );
    expect(refusal.files.map((f) => f.name)).toEqual(['your-song.txt']);
    expect(creates(h)).toHaveLength(0);
    // A forged form naming no message of this channel is refused the same way, before any lookup.
    const forged = h.discord.modalSubmit({
      customId: 'compose:message:not-a-message',
      user: member,
      fields: [{ customId: 'style', value: 'Folk' }],
    });
    expect((await firstAnswer(h, forged)).data?.content).toMatch(
      /^That form does not name a message of this channel\. Use the message menu again\./,
    );
  });

  it('answers a message with no text, or one over the limit, privately and opens no form', async () => {
    const h = await start();
    const image = h.discord.postUserMessage({
      author: { id: '200000000000000077', username: 'ben' },
      content: '',
      attachments: [
        {
          id: '1',
          filename: 'a.png',
          size: 1,
          url: 'http://x/a.png',
          proxy_url: 'http://x/a.png',
          content_type: 'image/png',
        },
      ],
    });
    const empty = await firstAnswer(
      h,
      h.discord.messageCommand({ name: 'Make a track from this', message: image }),
    );
    expect(empty.type).toBe(InteractionResponseType.ChannelMessageWithSource);
    expect(empty.data?.flags).toBe(MessageFlags.Ephemeral);
    expect(empty.data?.content).toMatch(/^That message has no text to use as lyrics/);

    const long = h.discord.postUserMessage({
      author: { id: '200000000000000077', username: 'ben' },
      content: 'la '.repeat(700),
    });
    const over = await firstAnswer(
      h,
      h.discord.messageCommand({ name: 'Make a track from this', message: long }),
    );
    expect(over.data?.flags).toBe(MessageFlags.Ephemeral);
    expect(over.data?.content).toBe(
      'That message is 2,099 characters; lyrics can be at most 2,000. Copy the part you want into /compose.',
    );
  });
});

describe('/music style, instrumental and personal defaults', () => {
  it('turns instrumental into prompt wording shown on the card; without it the prompt goes as typed', async () => {
    const h = await start();
    const plain = command(h, 'music', [str('prompt', '  Exactly this, as typed  ')]);
    await embedEdit(h, plain.token);
    expect((creates(h)[0]?.body as { prompt: string }).prompt).toBe('Exactly this, as typed');

    const instrumental = command(h, 'music', [str('prompt', 'Rainy night jazz'), bool('instrumental', true)]);
    const card = await embedEdit(h, instrumental.token);
    expect((creates(h)[1]?.body as { prompt: string }).prompt).toBe(
      'Rainy night jazz\nInstrumental only, no vocals.',
    );
    expect(fields(card.embeds?.[0]).Vocals).toBe('Instrumental (no vocals)');

    const styled = command(h, 'music', [
      str('prompt', 'la la la'),
      str('style', 'Jazz'),
      bool('instrumental', false),
    ]);
    const styledCard = await embedEdit(h, styled.token);
    expect((creates(h)[2]?.body as { prompt: string }).prompt).toBe(
      'Jazz\nWith sung vocals.\n\nLyrics:\nla la la',
    );
    expect(fields(styledCard.embeds?.[0])).toMatchObject({ Style: 'Jazz', Vocals: 'With vocals' });

    // The compose form's choice works the same way, and a word it does not know is handed back.
    const open = await firstAnswer(h, command(h, 'compose', []));
    const form = (values: Record<string, string>) =>
      h.discord.modalSubmit({
        customId: open.data!.custom_id!,
        user: member,
        fields: Object.entries(values).map(([customId, value]) => ({ customId, value })),
      });
    const composed = form({ style: 'Lo-fi beats', lyrics: '', vocals: 'instrumental', length: '' });
    const composedCard = await embedEdit(h, composed.token);
    expect((creates(h)[3]?.body as { prompt: string }).prompt).toBe(
      'Lo-fi beats\nInstrumental only, no vocals.',
    );
    expect(fields(composedCard.embeds?.[0])).toMatchObject({
      Style: 'Lo-fi beats',
      Vocals: 'Instrumental (no vocals)',
    });
    const unknown = await firstAnswer(h, form({ style: 'Lo-fi', lyrics: 'la', vocals: 'maybe', length: '' }));
    expect(unknown.data?.content).toBe(
      'Vocals must be "vocals" or "instrumental" (or left empty).\nYour text is attached so nothing is lost.',
    );
    expect(creates(h)).toHaveLength(4);

    const crafted = await firstAnswer(
      h,
      command(h, 'music', [str('prompt', 'x'), str('instrumental', 'maybe')]),
    );
    expect(crafted.data?.content).toBe('Vocals must be "vocals" or "instrumental" (or left empty).');
  });

  // How fast the answer comes is bench/styles.ts's measure; a clock here would only time the machine.
  it('suggests styles, the server’s favourites first, and never errors on crafted input', async () => {
    const h = await start();
    for (const style of ['Harbour blues', 'Harbour blues', 'Jazz']) {
      const made = command(h, 'music', [str('prompt', 'x'), str('style', style)]);
      await embedEdit(h, made.token);
    }
    const ask = async (value: unknown, name = 'style') => {
      const sent = h.discord.autocomplete({
        name: 'music',
        user: member,
        options: [
          str('prompt', 'x'),
          { name, type: ApplicationCommandOptionType.String, value, focused: true },
        ],
      });
      const answer = await firstAnswer(h, sent);
      expect(answer.type).toBe(InteractionResponseType.ApplicationCommandAutocompleteResult);
      return answer.data?.choices ?? [];
    };
    const all = await ask('');
    expect(all.slice(0, 2).map((c) => c.name)).toEqual(['Harbour blues', 'Jazz']);
    expect(all).toHaveLength(25);
    expect((await ask('jaz')).map((c) => c.name)).toEqual(['Jazz', 'Smooth jazz']);
    for (const crafted of ['x'.repeat(6_000), 42, null, '\u0000((((', '%_%']) {
      const choices = await ask(crafted);
      expect(choices.length).toBeLessThanOrEqual(25);
      for (const c of choices) {
        expect(c.name.length).toBeGreaterThanOrEqual(1);
        expect(c.name.length).toBeLessThanOrEqual(100);
      }
    }
    expect(await ask('x', 'prompt')).toEqual([]);
    // A command with no suggestions of its own gets an empty answer, not an error.
    const stray = h.discord.autocomplete({
      name: 'tracks',
      user: member,
      options: [{ name: 'number', type: ApplicationCommandOptionType.Integer, value: 1, focused: true }],
    });
    expect((await firstAnswer(h, stray)).data?.choices).toEqual([]);
  });

  it('applies personal defaults, shows them on the card, and caps them by the server limits', async () => {
    const h = await start();
    const set = await firstAnswer(
      h,
      command(h, 'music-prefs', [
        {
          name: 'set',
          type: 1,
          options: [int('length', 60), str('vocals', 'instrumental'), str('style-suffix', 'warm analog mix')],
        },
      ]),
    );
    expect(set.data?.flags).toBe(MessageFlags.Ephemeral);
    expect(set.data?.content).toContain('**Length**: 60 s');

    const first = command(h, 'music', [str('prompt', 'Harbour at night')]);
    const card = await embedEdit(h, first.token);
    expect(creates(h)[0]?.body).toMatchObject({
      prompt: 'Harbour at night\nwarm analog mix\nInstrumental only, no vocals.',
      music_length_ms: 60_000,
    });
    expect(fields(card.embeds?.[0])['Your defaults']).toBe(
      'length 60 s · instrumental · style suffix “warm analog mix”',
    );

    // The server lowers its maximum: the default is cut to it, and the card says so.
    await firstAnswer(
      h,
      asModerator(h, { name: 'set', type: 1, options: [int('max-length', 30), int('default-length', 20)] }),
    );
    const shown = await firstAnswer(h, command(h, 'music-prefs', [{ name: 'show', type: 1 }]));
    expect(shown.data?.content).toContain("**Length**: 60 s, cut to 30 s: this server's longest");
    const capped = command(h, 'music', [str('prompt', 'Harbour at dawn'), bool('instrumental', false)]);
    const cappedCard = await embedEdit(h, capped.token);
    expect(creates(h)[1]?.body).toMatchObject({
      prompt: 'Harbour at dawn\nwarm analog mix\nWith sung vocals.',
      music_length_ms: 30_000,
    });
    expect(fields(cappedCard.embeds?.[0])['Your defaults']).toBe(
      'length 60 s, capped to 30 s by this server · style suffix “warm analog mix”',
    );

    // Someone else's requests are untouched, and reset forgets them.
    const theirs = command(h, 'music', [str('prompt', 'Plain')], other);
    await embedEdit(h, theirs.token);
    expect(creates(h)[2]?.body).toMatchObject({ prompt: 'Plain', music_length_ms: 20_000 });
    const reset = await firstAnswer(h, command(h, 'music-prefs', [{ name: 'reset', type: 1 }]));
    expect(reset.data?.content).toBe('Your defaults are forgotten; the server’s apply again.');
    const after = command(h, 'music', [str('prompt', 'Plain again')]);
    await embedEdit(h, after.token);
    expect(creates(h)[3]?.body).toMatchObject({ prompt: 'Plain again', music_length_ms: 20_000 });

    const bad = await firstAnswer(
      h,
      command(h, 'music-prefs', [{ name: 'set', type: 1, options: [int('length', 5000)] }]),
    );
    expect(bad.data?.content).toBe(
      'Nothing was changed:\n- length must be a whole number of seconds from 10 to 300.',
    );
  });
});
