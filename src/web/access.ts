import { DiscordAPIError, PermissionFlagsBits, Routes, type REST } from 'discord.js';

/** What the bot itself sees of a person in a server. */
export type Access =
  { kind: 'none' } | { kind: 'member'; guildName: string; manageGuild: boolean; displayName: string };

interface GuildView {
  name: string;
  ownerId: string;
  rolePermissions: Map<string, bigint>;
}

export interface AccessChecker {
  /** Membership and Manage Server from the bot's own view: a bot-token member lookup and the roles. */
  check(guildId: string, userId: string): Promise<Access>;
  /** A member's name as the server shows it; undefined for someone no longer there. */
  displayName(guildId: string, userId: string): Promise<string | undefined>;
}

/**
 * Asks Discord with the bot's token, never the browser or the OAuth guild list. Answers are kept for
 * a short while (`ttlMs`), since one gallery page loads a player and a picture per track.
 */
export function createAccessChecker(options: {
  rest: REST;
  ttlMs?: number;
  now?: () => number;
}): AccessChecker {
  const { rest } = options;
  const ttlMs = options.ttlMs ?? 60_000;
  const now = options.now ?? Date.now;

  const cached = <T>(
    map: Map<string, { at: number; value: Promise<T> }>,
    key: string,
    load: () => Promise<T>,
  ) => {
    const hit = map.get(key);
    if (hit && now() - hit.at < ttlMs) return hit.value;
    const value = load();
    map.set(key, { at: now(), value });
    // A failure (Discord down) is not remembered: the next page view asks again.
    value.catch(() => map.delete(key));
    if (map.size > 10_000) map.delete(map.keys().next().value ?? '');
    return value;
  };
  const guildCache = new Map<string, { at: number; value: Promise<GuildView | undefined> }>();
  const memberCache = new Map<string, { at: number; value: Promise<MemberView | undefined> }>();

  const guild = (guildId: string) =>
    cached(guildCache, guildId, async () => {
      const body = await absentOn404(() => rest.get(Routes.guild(guildId)) as Promise<RawGuild>);
      if (body === undefined) return undefined;
      return {
        name: body.name,
        ownerId: body.owner_id,
        rolePermissions: new Map(body.roles.map((r) => [r.id, BigInt(r.permissions)])),
      };
    });

  const member = (guildId: string, userId: string) =>
    cached(memberCache, `${guildId}:${userId}`, async () => {
      const body = await absentOn404(
        () => rest.get(Routes.guildMember(guildId, userId)) as Promise<RawMember>,
      );
      if (body === undefined) return undefined;
      return {
        roles: body.roles,
        displayName: body.nick ?? body.user?.global_name ?? body.user?.username ?? 'member',
      };
    });

  return {
    async check(guildId, userId) {
      if (!isSnowflake(guildId) || !isSnowflake(userId)) return { kind: 'none' };
      const view = await guild(guildId);
      if (view === undefined) return { kind: 'none' };
      const person = await member(guildId, userId);
      if (person === undefined) return { kind: 'none' };
      let permissions = view.rolePermissions.get(guildId) ?? 0n;
      for (const role of person.roles) permissions |= view.rolePermissions.get(role) ?? 0n;
      const manageGuild =
        view.ownerId === userId ||
        (permissions & PermissionFlagsBits.Administrator) !== 0n ||
        (permissions & PermissionFlagsBits.ManageGuild) !== 0n;
      return { kind: 'member', guildName: view.name, manageGuild, displayName: person.displayName };
    },
    async displayName(guildId, userId) {
      if (!isSnowflake(guildId) || !isSnowflake(userId)) return undefined;
      return (await member(guildId, userId))?.displayName;
    },
  };
}

interface MemberView {
  roles: string[];
  displayName: string;
}

interface RawGuild {
  name: string;
  owner_id: string;
  roles: { id: string; permissions: string }[];
}

interface RawMember {
  roles: string[];
  nick?: string | null;
  user?: { username: string; global_name?: string | null };
}

export const isSnowflake = (value: string): boolean => /^\d{17,20}$/.test(value);

/** Discord answers 404 (unknown guild or member) or 403 (the bot is not in that server). */
async function absentOn404<T>(load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof DiscordAPIError && (error.status === 404 || error.status === 403)) return undefined;
    throw error;
  }
}
