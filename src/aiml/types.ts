/** What the provider says about a generation, reduced to what the bot acts on. */
export type PollResult =
  | { kind: 'pending'; status: string; known: boolean }
  | { kind: 'completed'; audioUrl: string; creditsUsed: number | undefined }
  | { kind: 'failed'; message: string; creditsUsed: number | undefined };

export interface SubmittedGeneration {
  generationId: string;
  status: string;
}

export interface GenerationRequest {
  prompt: string;
  lengthSeconds: number;
}
