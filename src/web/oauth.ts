import { z } from 'zod';

/** The person behind a sign-in, as Discord's OAuth2 API describes them. */
interface SignedInPerson {
  userId: string;
  name: string;
  guildIds: string[];
}

interface OAuthOptions {
  /** e.g. https://discord.com/api: calls go to `${apiUrl}/v10/...` like the bot's other REST calls. */
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  timeoutMs?: number;
}

const tokenSchema = z.object({ access_token: z.string().min(1), token_type: z.string() });
const userSchema = z.object({
  id: z.string().regex(/^\d{17,20}$/),
  username: z.string(),
  global_name: z.string().nullish(),
});
const guildsSchema = z.array(z.object({ id: z.string().regex(/^\d{17,20}$/) }));

/** A sign-in that did not work, with a sentence the person may read. */
export class SignInError extends Error {}

/**
 * The code grant's second half: the code for a token, the token for who the person is. The token
 * is used for these two reads and then dropped; nothing keeps it, and it is never logged.
 */
export async function exchangeCode(options: OAuthOptions, code: string): Promise<SignedInPerson> {
  const signal = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  const basic = Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64');
  const tokenResponse = await fetch(`${options.apiUrl}/v10/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: options.redirectUri }),
    signal,
  });
  if (!tokenResponse.ok)
    throw new SignInError(`Discord did not accept the sign-in (${tokenResponse.status}).`);
  const token = tokenSchema.safeParse(await tokenResponse.json());
  if (!token.success) throw new SignInError('Discord answered the sign-in in a form this bot does not know.');
  const headers = { authorization: `Bearer ${token.data.access_token}` };
  const read = async <T>(path: string, schema: z.ZodType<T>): Promise<T> => {
    const response = await fetch(`${options.apiUrl}/v10${path}`, { headers, signal });
    if (!response.ok) throw new SignInError(`Discord would not say who signed in (${response.status}).`);
    const parsed = schema.safeParse(await response.json());
    if (!parsed.success)
      throw new SignInError('Discord described the account in a form this bot does not know.');
    return parsed.data;
  };
  const [user, guilds] = await Promise.all([
    read('/users/@me', userSchema),
    read('/users/@me/guilds', guildsSchema),
  ]);
  return { userId: user.id, name: user.global_name ?? user.username, guildIds: guilds.map((g) => g.id) };
}

export function authorizeUrl(
  oauthBase: string,
  options: Pick<OAuthOptions, 'clientId' | 'redirectUri'>,
  state: string,
): string {
  const params = new URLSearchParams({
    client_id: options.clientId,
    response_type: 'code',
    scope: 'identify guilds',
    redirect_uri: options.redirectUri,
    state,
  });
  return `${oauthBase}/oauth2/authorize?${params.toString()}`;
}
