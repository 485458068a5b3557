/**
 * The one error type whose message may be shown to a Discord user. Anything else that escapes a
 * handler gets a generic reply, and its details go to the log only.
 */
export class UserFacingError extends Error {
  constructor(
    /** Short, specific, actionable text for the member who asked. */
    readonly userMessage: string,
    options?: { cause?: unknown; logMessage?: string },
  ) {
    super(
      options?.logMessage ?? userMessage,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'UserFacingError';
  }
}

export function userMessageOf(error: unknown, fallback: string): string {
  return error instanceof UserFacingError ? error.userMessage : fallback;
}
