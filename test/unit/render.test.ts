import { describe, expect, it } from 'vitest';
import {
  duration,
  renderCancelled,
  renderDelivered,
  renderFailed,
  renderProgress,
} from '../../src/discord/render.js';
import type { Job } from '../../src/generation/ports.js';
import { fileNameFor } from '../../src/generation/steps.js';

function job(prompt: string): Job {
  return {
    id: 'req-1',
    request: { prompt, lengthSeconds: 45 },
    origin: {
      guildId: '1',
      channelId: '2',
      userId: '300000000000000003',
      reply: { applicationId: '4', interactionToken: 'secret' },
      uploadLimitBytes: 10 * 1024 * 1024,
    },
    createdAt: 1_700_000_000_000,
    state: { phase: 'submitted', generationId: 'gen-1', submittedAt: 1_700_000_001_000 },
    phase: 'generating',
    polls: 3,
  };
}

describe('render', () => {
  it('attaches the file and shows the escaped prompt, length and requester without pinging', () => {
    const payload = renderDelivered(job('**loud** _synth_ @everyone'), {
      kind: 'file',
      data: Buffer.from('mp3'),
      fileName: 'loud-synth.mp3',
    });
    expect(payload.files).toEqual([
      { name: 'loud-synth.mp3', data: Buffer.from('mp3'), contentType: 'audio/mpeg' },
    ]);
    expect(payload.body.attachments).toEqual([{ id: 0, filename: 'loud-synth.mp3' }]);
    expect(payload.body.allowed_mentions).toEqual({ parse: [] });
    const embed = payload.body.embeds?.[0];
    expect(embed?.description).toBe('\\*\\*loud\\*\\* \\_synth\\_ @everyone');
    expect(embed?.title).toBe('🎵 Track ready');
    expect(embed?.fields).toEqual([
      { name: 'Requested by', value: '<@300000000000000003>', inline: true },
      { name: 'Length', value: '45 s requested', inline: true },
    ]);
  });

  it('keeps a prompt that escapes to more than the embed limit within it', () => {
    const payload = renderDelivered(job('*'.repeat(2000) + '_'.repeat(1000)), {
      kind: 'file',
      data: Buffer.alloc(1),
      fileName: 'x.mp3',
    });
    const description = payload.body.embeds?.[0]?.description ?? '';
    expect(description.length).toBeLessThanOrEqual(4096);
    expect(description.endsWith('…')).toBe(true);
    expect(description.endsWith('\\…')).toBe(false);
  });

  it.each([
    {
      because: 'too-large' as const,
      sizeBytes: 15 * 1024 * 1024,
      says: "The file is 15 MiB, over this server's 10 MiB upload limit, so here is a link instead: https://cdn.example/track.mp3",
    },
    {
      because: 'upload-failed' as const,
      sizeBytes: 4 * 1024 * 1024,
      says: 'Discord would not take the upload, so here is a link instead: https://cdn.example/track.mp3',
    },
  ])('offers a link, and says why, when the file is $because', ({ because, sizeBytes, says }) => {
    const payload = renderDelivered(job('ambient'), {
      kind: 'link',
      url: 'https://cdn.example/track.mp3',
      sizeBytes,
      limitBytes: 10 * 1024 * 1024,
      because,
    });
    expect(payload.files).toEqual([]);
    expect(payload.body.embeds?.[0]?.fields?.at(-1)?.value).toBe(says);
  });

  it('shows progress with a relative timestamp and failures with the reason', () => {
    expect(renderProgress(job('x')).body.content).toBe(
      '🎼 Generating a 45-second track for <@300000000000000003>, started <t:1700000001:R>…',
    );
    expect(renderProgress({ ...job('x'), phase: 'queued', queuePosition: 3 }).body.content).toBe(
      "⏳ <@300000000000000003>'s 45-second track is waiting in line: position 3.",
    );
    const failed = renderFailed(job('x'), 'The music service refused this prompt: no artists');
    expect(failed.body.embeds?.[0]?.description).toBe('The music service refused this prompt: no artists');
    expect(failed.body.allowed_mentions).toEqual({ parse: [] });
  });
});

describe('render: track details and lineage', () => {
  const done: Job = {
    ...job('lofi'),
    phase: 'completed',
    trackNumber: 42,
    actualSeconds: 44.62,
    generationMs: 41_500,
    creditsUsed: 450,
    lineage: { kind: 'remix', parentId: 'req-0', parentNumber: 41, parentUserId: '300000000000000009' },
  };

  it('numbers the track and shows lengths, generation time, credits and whom it builds on', () => {
    const embed = renderDelivered(done, { kind: 'file', data: Buffer.alloc(1), fileName: 'x.mp3' }).body
      .embeds?.[0];
    expect(embed?.title).toBe('🎵 Track #42');
    expect(embed?.fields).toEqual([
      { name: 'Requested by', value: '<@300000000000000003>', inline: true },
      { name: 'Length', value: '45 s requested · 44.6 s actual', inline: true },
      { name: 'Generated in', value: '42 s', inline: true },
      { name: 'Credits', value: '450', inline: true },
      { name: 'Builds on', value: 'Remix of #41 by <@300000000000000009>' },
    ]);
  });

  it('offers Cancel only while the provider is still working, and the track buttons after', () => {
    const labels = (payload: { body: { components?: unknown } }) =>
      (payload.body.components as { components: { label: string; custom_id: string }[] }[]).flatMap((row) =>
        row.components.map((c) => `${c.label}=${c.custom_id}`),
      );
    expect(labels(renderProgress({ ...done, phase: 'queued', queuePosition: 2 }))).toEqual([
      'Cancel=track:cancel:req-1',
    ]);
    expect(labels(renderProgress({ ...done, phase: 'generating' }))).toEqual(['Cancel=track:cancel:req-1']);
    expect(labels(renderProgress({ ...done, phase: 'downloading' }))).toEqual([]);
    expect(labels(renderDelivered(done, { kind: 'file', data: Buffer.alloc(1), fileName: 'x.mp3' }))).toEqual(
      [
        'Regenerate=track:regenerate:req-1',
        'Remix=track:remix:req-1',
        'Delete=track:delete:req-1',
        'Play in voice=voice:play:req-1',
      ],
    );
    expect(labels(renderFailed(done, 'no'))).toEqual(['Regenerate=track:regenerate:req-1']);
  });

  it('says who cancelled, and names a parent that never got a number', () => {
    const cancelled = renderCancelled({
      ...done,
      phase: 'cancelled',
      cancelledBy: '300000000000000007',
      lineage: { kind: 'regenerate', parentId: 'req-0', parentUserId: '300000000000000009' },
    });
    expect(cancelled.body.embeds?.[0]?.description).toBe(
      '<@300000000000000007> cancelled this 45-second new take of an earlier request.',
    );
    expect(cancelled.body.allowed_mentions).toEqual({ parse: [] });
  });

  it('formats durations', () => {
    expect([duration(400), duration(41_000), duration(125_000), duration(120_000)]).toEqual([
      '0.4 s',
      '41 s',
      '2 min 5 s',
      '2 min',
    ]);
  });
});

describe('fileNameFor', () => {
  it.each([
    ['Lofi hip hop, rainy night', 'lofi-hip-hop-rainy-night.mp3'],
    ['Café Olé!', 'cafe-ole.mp3'],
    ['🎵🎵', 'tracksmith-track.mp3'],
    ['../../etc/passwd', 'etc-passwd.mp3'],
    [
      'an epic orchestral piece with thundering drums and a soaring choir',
      'an-epic-orchestral-piece-with-thundering-drums.mp3',
    ],
  ])('%s -> %s', (prompt, name) => {
    expect(fileNameFor(prompt)).toBe(name);
  });
});
