/**
 * `npm run demo`: the whole /music flow with no accounts. A fake Discord and a fake AIML API start
 * on loopback, the real bot connects to both exactly as it would in production, one member asks
 * for a track, and every step the member would see is printed. The delivered MP3 is written to
 * demo-output/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ApplicationCommandOptionType } from 'discord.js';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { FakeAiml } from '../fakes/aiml.js';
import { FakeDiscord, type RecordedRequest } from '../fakes/discord.js';

const prompt =
  process.argv[2] ?? 'Warm lo-fi hip hop for a rainy evening, dusty vinyl crackle, mellow Rhodes chords';
const lengthSeconds = Number(process.argv[3] ?? 20);
const outputDir = resolve('demo-output');

const started = Date.now();
const say = (text: string) => {
  console.log(`[${((Date.now() - started) / 1000).toFixed(2).padStart(6)} s] ${text}`);
};

const discord = await FakeDiscord.start();
const aiml = await FakeAiml.start({ generationMs: 2_500 });
say(`fake Discord on ${discord.apiUrl}, fake AIML API on ${aiml.baseUrl}`);

const config = loadConfig({
  DISCORD_TOKEN: discord.token,
  AIML_API_KEY: aiml.apiKey,
  AIML_API_URL: aiml.baseUrl,
  DISCORD_API_URL: discord.apiUrl,
  LOG_LEVEL: 'warn',
  DATABASE_URL: 'sqlite::memory:',
});
const app = await createApp(config, { logger: createLogger('warn') });
await app.start();
say('the bot logged in to the gateway and is ready');

const member = { id: '200000000000000042', username: 'riffmaker' };
say(`@${member.username} types: /music prompt: ${prompt} length: ${lengthSeconds}`);
const dispatchedAt = Date.now();
const interaction = discord.chatInput({
  name: 'music',
  user: member,
  options: [
    { name: 'prompt', type: ApplicationCommandOptionType.String, value: prompt },
    { name: 'length', type: ApplicationCommandOptionType.Integer, value: lengthSeconds },
  ],
});

const isOriginalEdit = (r: RecordedRequest) =>
  r.method === 'PATCH' && r.path.endsWith(`/${interaction.token}/messages/@original`);
const callback = await discord.waitForRequest((r) => r.path.startsWith(`/interactions/${interaction.id}/`));
say(
  `Discord shows "Tracksmith is thinking…": the bot deferred ${callback.at - dispatchedAt} ms after the dispatch`,
);

// Every edit of the reply as it happens, up to the final one (the first with an embed).
const hasEmbed = (r: RecordedRequest) => ((r.body as { embeds?: unknown[] }).embeds?.length ?? 0) > 0;
let seen = 0;
let final: RecordedRequest | undefined;
while (!final) {
  const edit = await discord.waitForRequest((r) => isOriginalEdit(r) && r.id > seen, 60_000);
  seen = edit.id;
  if (hasEmbed(edit)) final = edit;
  else say(`the reply now reads: ${contentOf(edit)}`);
}
const message = discord.originalResponse(interaction.token);
const attachment = message?.attachments[0];
const data = attachment ? discord.attachmentData(attachment.id) : undefined;
const embed = (
  final.body as {
    embeds?: { title?: string; description?: string; fields?: { name: string; value: string }[] }[];
  }
).embeds?.[0];
say(`the reply now reads: ${embed?.title ?? contentOf(final)}`);
if (embed?.description) say(`  prompt: ${embed.description}`);
for (const field of embed?.fields ?? []) say(`  ${field.name}: ${field.value}`);

const polls = aiml.requests.filter((r) => r.route === 'poll').length;
say(`the bot asked the provider ${polls} time(s) about the generation`);
if (attachment && data) {
  await mkdir(outputDir, { recursive: true });
  const file = resolve(outputDir, attachment.filename);
  await writeFile(file, data);
  say(`  attachment: ${attachment.filename}, ${(data.length / 1024).toFixed(0)} KiB, saved to ${file}`);
} else {
  say('no file was attached');
  process.exitCode = 1;
}

await app.stop();
await Promise.all([discord.close(), aiml.close()]);

function contentOf(request: RecordedRequest): string {
  const body = request.body as { content?: string } | undefined;
  return body?.content ?? '(no text)';
}
