import { DiscordAPIError } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { isNetworkFault } from '../../src/discord/discord-errors.js';

/** An error as Node's sockets and undici raise them: a message and a string code. */
function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('isNetworkFault', () => {
  it('sees a request that Discord never answered', () => {
    expect(isNetworkFault(withCode('write EPIPE', 'EPIPE'))).toBe(true);
    expect(isNetworkFault(withCode('read ECONNRESET', 'ECONNRESET'))).toBe(true);
    expect(
      isNetworkFault(new Error('fetch failed', { cause: withCode('other side closed', 'UND_ERR_SOCKET') })),
    ).toBe(true);
    expect(
      isNetworkFault(Object.assign(new Error('This operation was aborted'), { name: 'AbortError' })),
    ).toBe(true);
  });

  it('leaves alone what Discord answered, and faults of the bot’s own', () => {
    const refused = new DiscordAPIError(
      { code: 40005, message: 'Request entity too large' },
      40005,
      413,
      'PATCH',
      'https://discord.test/api/v10/webhooks/1/t/messages/@original',
      {},
    );
    expect(isNetworkFault(refused)).toBe(false);
    expect(isNetworkFault(new TypeError('cannot read properties of undefined'))).toBe(false);
    expect(isNetworkFault(withCode('no such file', 'ENOENT'))).toBe(false);
    expect(isNetworkFault('EPIPE')).toBe(false);
  });
});
