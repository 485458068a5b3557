/**
 * The baseline: the polling loop a user would write from the provider's documentation. Submit,
 * ask for the status at once, then ask again `intervalMs` after each answer until it is neither
 * `queued` nor `generating`. No retry, no backoff, one timer chain per job. Written here in our own
 * words to the documented behaviour, with the interval scaled like every other time in a bench.
 */
export interface ReferenceResult {
  generationId: string;
  /** When the client saw the final status. */
  detectedAt: number;
  audioUrl: string | undefined;
}

const headersFor = (apiKey: string) => ({
  authorization: `Bearer ${apiKey}`,
  'content-type': 'application/json',
});

export async function referenceSubmit(
  baseUrl: string,
  apiKey: string,
  body: { prompt: string; music_length_ms: number },
): Promise<string> {
  const response = await fetch(`${baseUrl}/v2/generate/audio`, {
    method: 'POST',
    headers: headersFor(apiKey),
    body: JSON.stringify({ model: 'elevenlabs/eleven_music', ...body }),
  });
  return ((await response.json()) as { id: string }).id;
}

export function referenceWatch(
  baseUrl: string,
  apiKey: string,
  generationId: string,
  intervalMs: number,
): Promise<ReferenceResult> {
  return new Promise((resolve, reject) => {
    const check = () => {
      fetch(`${baseUrl}/v2/generate/audio?generation_id=${encodeURIComponent(generationId)}`, {
        headers: headersFor(apiKey),
      })
        .then(
          (response) => response.json() as Promise<{ status: string; audio_file?: { url: string } | null }>,
        )
        .then((status) => {
          if (status.status === 'queued' || status.status === 'generating') {
            setTimeout(check, intervalMs);
            return;
          }
          resolve({ generationId, detectedAt: Date.now(), audioUrl: status.audio_file?.url });
        })
        .catch(reject);
    };
    check();
  });
}

export async function referenceGenerate(
  baseUrl: string,
  apiKey: string,
  body: { prompt: string; music_length_ms: number },
  intervalMs: number,
): Promise<ReferenceResult> {
  return referenceWatch(baseUrl, apiKey, await referenceSubmit(baseUrl, apiKey, body), intervalMs);
}
