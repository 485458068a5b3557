import { ApplicationCommandOptionType } from 'discord.js';
import type { FakeDiscord } from '../fakes/discord.js';

/** The member most tests ask as. */
export const member = { id: '200000000000000042', username: 'riffmaker' };

/** A member known only by ID (the name is made from its last digits). */
export const user = (id: string) => ({ id, username: `member${id.slice(-3)}` });

type ChatInput = Parameters<FakeDiscord['chatInput']>[0];

/**
 * `/music prompt:<prompt>` (and `length:` when given), sent through the fake gateway as `member`
 * unless the options name another user, in the fake's default server unless they name another.
 * Prompt and length are `unknown` so that a test can send what a crafted client would.
 */
export function music(
  discord: Pick<FakeDiscord, 'chatInput'>,
  prompt: unknown,
  options: Omit<ChatInput, 'name' | 'options'> & { length?: unknown } = {},
): { id: string; token: string } {
  const { length, ...input } = options;
  return discord.chatInput({
    name: 'music',
    user: member,
    ...input,
    options: [
      { name: 'prompt', type: ApplicationCommandOptionType.String, value: prompt as string },
      ...(length === undefined
        ? []
        : [{ name: 'length', type: ApplicationCommandOptionType.Integer, value: length as number }]),
    ],
  });
}
