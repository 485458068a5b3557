/**
 * `custom_id`s of the bot's buttons and modals: `<scope>:<action>[:<argument>]`. The argument is
 * an opaque request ID or a page number, never data the bot would trust: every handler looks the
 * track up again and checks the server and the member. Anything else that arrives is refused.
 */
export interface CustomId {
  scope: string;
  action: string;
  argument: string | undefined;
}

/** Discord's own limit on `custom_id`. */
const MAX_LENGTH = 100;
const PATTERN = /^([a-z]+):([a-z-]+)(?::([A-Za-z0-9-]{1,64}))?$/;

export function encodeCustomId(scope: string, action: string, argument?: string | number): string {
  const id = argument === undefined ? `${scope}:${action}` : `${scope}:${action}:${String(argument)}`;
  if (id.length > MAX_LENGTH || !PATTERN.test(id)) throw new RangeError(`not a valid custom_id: ${id}`);
  return id;
}

export function decodeCustomId(raw: unknown): CustomId | undefined {
  if (typeof raw !== 'string' || raw.length > MAX_LENGTH) return undefined;
  const match = PATTERN.exec(raw);
  if (!match?.[1] || !match[2]) return undefined;
  return { scope: match[1], action: match[2], argument: match[3] };
}
