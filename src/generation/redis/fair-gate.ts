import type { Redis, Result } from 'ioredis';

// The scripts are registered once per connection and then sent by their SHA (ioredis's
// `defineCommand`), so a step carries a hash to Redis rather than the whole script.
declare module 'ioredis' {
  interface RedisCommander<Context> {
    tracksmithGateEnter(...args: string[]): Result<[number, ...string[]], Context>;
    tracksmithGateRelease(...args: string[]): Result<string[], Context>;
  }
}

/**
 * The fair gate of `../gate.ts`, kept in Redis so that every worker process admits from one line:
 * at most `globalLimit` generations run at once across all workers, at most each server's
 * `concurrent` for that server, and the server served least recently goes next, then its member
 * served least recently. Each operation is one Lua script, so two workers never admit the same
 * job or overrun a limit.
 *
 * Keys, under the prefix:
 *   guilds          zset  server -> when last served (waiting servers only; never served sorts
 *                         first, in order of arrival)
 *   users:<g>       zset  member -> when last served (members of <g> with jobs waiting)
 *   line:<g>:<u>    list  waiting job IDs of one member, oldest first
 *   entry           hash  job ID -> "<g>\n<u>", for every job waiting or running
 *   running         hash  job ID -> 1, for jobs holding a slot
 *   count           hash  server -> jobs running;  total: jobs running in all
 *   waiting         hash  server -> jobs waiting
 *   limit           hash  server -> its `concurrent`, as last told
 *   served          hash  server -> when last served;  userServed:<g>  member -> when last served
 *   seq             the clock of arrivals and admissions
 * A server with nothing running or waiting is forgotten, so memory follows the work in hand.
 */

const helpers = `
local P = ARGV[1]
local NEVER = 1e15

local function num(v) return tonumber(v or '0') or 0 end

local function pump(global)
  local admitted = {}
  while num(redis.call('GET', P .. 'total')) < global do
    local pick = nil
    for _, g in ipairs(redis.call('ZRANGE', P .. 'guilds', 0, -1)) do
      if num(redis.call('HGET', P .. 'count', g)) < num(redis.call('HGET', P .. 'limit', g)) then
        pick = g
        break
      end
    end
    if pick == nil then break end
    local user = redis.call('ZRANGE', P .. 'users:' .. pick, 0, 0)[1]
    local line = P .. 'line:' .. pick .. ':' .. user
    local id = redis.call('LPOP', line)
    local seq = redis.call('INCR', P .. 'seq')
    redis.call('HSET', P .. 'running', id, 1)
    redis.call('HINCRBY', P .. 'count', pick, 1)
    redis.call('INCR', P .. 'total')
    redis.call('HSET', P .. 'served', pick, seq)
    redis.call('HSET', P .. 'userServed:' .. pick, user, seq)
    if redis.call('LLEN', line) == 0 then
      redis.call('ZREM', P .. 'users:' .. pick, user)
    else
      redis.call('ZADD', P .. 'users:' .. pick, seq, user)
    end
    if redis.call('HINCRBY', P .. 'waiting', pick, -1) <= 0 then
      redis.call('HDEL', P .. 'waiting', pick)
      redis.call('ZREM', P .. 'guilds', pick)
    else
      redis.call('ZADD', P .. 'guilds', seq, pick)
    end
    table.insert(admitted, id)
  end
  return admitted
end

-- 1-based place in line if slots freed one at a time: round k takes each server's k-th job, and a
-- server's own jobs alternate between its members (the order FairGate.order() gives).
local function position(id, g, u)
  local ids = redis.call('LRANGE', P .. 'line:' .. g .. ':' .. u, 0, -1)
  local k = nil
  for i, x in ipairs(ids) do
    if x == id then k = i - 1 break end
  end
  if k == nil then return 0 end
  local j, before = 0, true
  for _, v in ipairs(redis.call('ZRANGE', P .. 'users:' .. g, 0, -1)) do
    local len = redis.call('LLEN', P .. 'line:' .. g .. ':' .. v)
    if v == u then before = false end
    j = j + math.min(len, k)
    if before and len > k then j = j + 1 end
  end
  local pos = 0
  before = true
  for _, h in ipairs(redis.call('ZRANGE', P .. 'guilds', 0, -1)) do
    local len = num(redis.call('HGET', P .. 'waiting', h))
    if h == g then before = false end
    pos = pos + math.min(len, j)
    if before and len > j then pos = pos + 1 end
  end
  return pos + 1
end

local function forgetIfIdle(g)
  if num(redis.call('HGET', P .. 'count', g)) > 0 or num(redis.call('HGET', P .. 'waiting', g)) > 0 then return end
  redis.call('HDEL', P .. 'count', g)
  redis.call('HDEL', P .. 'served', g)
  redis.call('HDEL', P .. 'limit', g)
  redis.call('DEL', P .. 'userServed:' .. g)
end
`;

/** ARGV: prefix, id, guild, user, guild limit, global limit. Returns {position (0 = running), admitted...}. */
const enterScript = `${helpers}
local id, g, u = ARGV[2], ARGV[3], ARGV[4]
redis.call('HSET', P .. 'limit', g, ARGV[5])
if redis.call('HEXISTS', P .. 'entry', id) == 0 then
  local seq = redis.call('INCR', P .. 'seq')
  redis.call('HSET', P .. 'entry', id, g .. '\\n' .. u)
  redis.call('RPUSH', P .. 'line:' .. g .. ':' .. u, id)
  redis.call('HINCRBY', P .. 'waiting', g, 1)
  if redis.call('ZSCORE', P .. 'users:' .. g, u) == false then
    local served = redis.call('HGET', P .. 'userServed:' .. g, u)
    redis.call('ZADD', P .. 'users:' .. g, served or (seq - NEVER), u)
  end
  if redis.call('ZSCORE', P .. 'guilds', g) == false then
    local served = redis.call('HGET', P .. 'served', g)
    redis.call('ZADD', P .. 'guilds', served or (seq - NEVER), g)
  end
end
local admitted = pump(tonumber(ARGV[6]))
local place = 0
if redis.call('HEXISTS', P .. 'running', id) == 0 then place = position(id, g, u) end
local out = { place }
for _, x in ipairs(admitted) do table.insert(out, x) end
return out
`;

/** ARGV: prefix, id, global limit. Frees the slot or leaves the line; returns the IDs admitted. */
const releaseScript = `${helpers}
local id = ARGV[2]
local entry = redis.call('HGET', P .. 'entry', id)
if entry then
  local nl = string.find(entry, '\\n', 1, true)
  local g, u = string.sub(entry, 1, nl - 1), string.sub(entry, nl + 1)
  redis.call('HDEL', P .. 'entry', id)
  if redis.call('HDEL', P .. 'running', id) == 1 then
    redis.call('HINCRBY', P .. 'count', g, -1)
    redis.call('DECR', P .. 'total')
  elseif redis.call('LREM', P .. 'line:' .. g .. ':' .. u, 1, id) == 1 then
    if redis.call('LLEN', P .. 'line:' .. g .. ':' .. u) == 0 then redis.call('ZREM', P .. 'users:' .. g, u) end
    if redis.call('HINCRBY', P .. 'waiting', g, -1) <= 0 then
      redis.call('HDEL', P .. 'waiting', g)
      redis.call('ZREM', P .. 'guilds', g)
    end
  end
  forgetIfIdle(g)
end
return pump(tonumber(ARGV[3]))
`;

export interface Admission {
  /** 0 once the job holds a slot, else its place in line (1 = next). */
  position: number;
  /** Jobs (this one or others) that this call let through; their workers should be woken. */
  admitted: string[];
}

export class RedisFairGate {
  constructor(
    private readonly redis: Redis,
    /** Namespaces every key, e.g. `tracksmith:gate:`. */
    private readonly prefix: string,
    private readonly globalLimit: number,
  ) {
    redis.defineCommand('tracksmithGateEnter', { numberOfKeys: 0, lua: enterScript });
    redis.defineCommand('tracksmithGateRelease', { numberOfKeys: 0, lua: releaseScript });
  }

  /** Joins the line (once per ID; again is a no-op) and admits whatever the limits now allow. */
  async enter(id: string, guildId: string, userId: string, guildLimit: number): Promise<Admission> {
    const [position, ...admitted] = await this.redis.tracksmithGateEnter(
      this.prefix,
      id,
      guildId,
      userId,
      String(guildLimit),
      String(this.globalLimit),
    );
    return { position, admitted };
  }

  /** Gives the slot back, or leaves the line; safe to repeat. Returns the jobs admitted in its place. */
  async release(id: string): Promise<string[]> {
    return this.redis.tracksmithGateRelease(this.prefix, id, String(this.globalLimit));
  }

  /** Whether the job holds a slot. */
  async holdsSlot(id: string): Promise<boolean> {
    return (await this.redis.hexists(`${this.prefix}running`, id)) === 1;
  }

  /** Jobs waiting for a slot, and jobs holding one, across every worker. */
  async counts(): Promise<{ waiting: number; running: number }> {
    const [entries, running] = await Promise.all([
      this.redis.hlen(`${this.prefix}entry`),
      this.redis.hlen(`${this.prefix}running`),
    ]);
    return { waiting: entries - running, running };
  }
}
