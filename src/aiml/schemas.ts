import { z } from 'zod';

export const MODEL = 'elevenlabs/eleven_music';

/** The provider documents four statuses; other endpoints also say `waiting`, so any string is accepted. */
export const generationSchema = z.object({
  id: z.string().min(1),
  status: z.string().min(1),
  audio_file: z.object({ url: z.url() }).nullish(),
  error: z.object({ name: z.string().nullish(), message: z.string().nullish() }).nullish(),
  meta: z.object({ usage: z.object({ credits_used: z.number().nonnegative() }).nullish() }).nullish(),
});

export type GenerationBody = z.infer<typeof generationSchema>;

/** Error bodies are JSON such as `{ statusCode, message }`, where `message` may be a list. */
export const errorBodySchema = z.object({
  message: z.union([z.string(), z.array(z.string())]).optional(),
  error: z.union([z.string(), z.object({ message: z.string().optional() })]).optional(),
});

/** An OpenAI-compatible chat completion, as much of it as the lyrics drafts read. */
export const chatCompletionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: z.object({ total_tokens: z.number().int().nonnegative() }).nullish(),
  meta: z.object({ usage: z.object({ credits_used: z.number().nonnegative() }).nullish() }).nullish(),
});
