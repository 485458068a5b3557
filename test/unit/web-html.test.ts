import { describe, expect, it } from 'vitest';
import { escapeHtml, html } from '../../src/web/html.js';
import { decodePeaks, drawWaveform, encodePeaks, waveformPeaks } from '../../src/audio/waveform.js';
import { PNG } from 'pngjs';
import { makeMp3 } from '../fakes/mp3.js';

describe('the html tag', () => {
  it('escapes every interpolated value, in text and in attributes, but not its own markup', () => {
    const prompt = `<script>alert("x")</script> & 'quotes' \`ticks\``;
    const inner = html`<b>${prompt}</b>`;
    expect(html`<p title="${prompt}">${inner}</p>`.value).toBe(
      `<p title="${escapeHtml(prompt)}"><b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39; &#96;ticks&#96;</b></p>`,
    );
    expect(html`${[1, 'a<', null, undefined, false]}`.value).toBe('1a&lt;');
  });
});

describe('waveforms', () => {
  it('reads 160 levels from a decoded mp3: a tone is loud, silence is flat', async () => {
    const tone = await waveformPeaks(makeMp3({ seconds: 5 }));
    expect(tone).toHaveLength(160);
    expect(Math.max(...(tone ?? []))).toBe(255);
    expect(await waveformPeaks(makeMp3({ seconds: 5, tone: false }))).toEqual(new Array(160).fill(0));
    expect(await waveformPeaks(Buffer.from('not audio at all'))).toBeUndefined();
  });

  it('draws levels as a PNG, and stores them compactly', () => {
    const peaks = Array.from({ length: 160 }, (_, i) => (i * 7) % 256);
    expect(decodePeaks(encodePeaks(peaks))).toEqual(peaks);
    const png = PNG.sync.read(drawWaveform(peaks));
    expect([png.width, png.height]).toEqual([640, 120]);
  });
});
