import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * The two L2 writes that must check or change generations atomically with
 * the entry they write. Generations are base64url tokens, so the scripts can
 * splice them into the entry's JSON without escaping; '' stands for "never
 * bumped" (a missing key) in arguments.
 */
export interface L2Script {
  readonly lua: string;
  readonly sha: string;
}

function script(lua: string): L2Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/**
 * Writes a loaded value only if every generation is still what the read that
 * missed saw: a load overtaken by an invalidation (or a `set`) anywhere
 * writes nothing, rather than an entry no one can read that would also
 * overwrite a fresher one.
 * KEYS: entry, generations…  ARGV: entry JSON, entry TTL ms, expected generations…
 */
export const WRITE_IF_CURRENT = script(`
for i = 2, #KEYS do
  if (redis.call('GET', KEYS[i]) or '') ~= ARGV[i + 1] then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`);

/**
 * Stores the newest value of a key: a new generation for the key (so loads
 * that read before are stale) and the entry stamped with it and the current
 * prefix generations, in one step.
 * KEYS: entry, key generation, prefix generations…
 * ARGV: new generation, generation TTL ms, value JSON, entry TTL ms
 */
export const REPLACE = script(`
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
local generations = { '"' .. ARGV[1] .. '"' }
for i = 3, #KEYS do
  local generation = redis.call('GET', KEYS[i])
  generations[#generations + 1] = generation and ('"' .. generation .. '"') or 'null'
end
redis.call('SET', KEYS[1], '{"g":[' .. table.concat(generations, ',') .. '],"v":' .. ARGV[3] .. '}', 'PX', ARGV[4])
return 1
`);

/**
 * Stores the result of a committed change (write-through), only if neither
 * the entry nor any generation changed since the writer's ticket, taken
 * before its commit. Then nothing acted on the key in between — no load
 * stored a value (possibly of a later change), no other writer stored, no
 * instance invalidated — and the entry is written as REPLACE writes it.
 * Otherwise the key is invalidated instead (new generation, entry deleted):
 * the next read loads. Either way the key's generation is renewed, so loads
 * that read before are stale.
 * KEYS: entry, key generation, prefix generations…
 * ARGV: SHA-1 of the entry read with the ticket ('' if there was none), expected generations… (one per
 * generation key), new generation, generation TTL ms, value JSON, entry TTL ms
 */
export const REPLACE_IF_CURRENT = script(`
local m = #KEYS - 1
local entry = redis.call('GET', KEYS[1])
local unchanged = (entry and redis.sha1hex(entry) or '') == ARGV[1]
for i = 1, m do
  if not unchanged then break end
  unchanged = (redis.call('GET', KEYS[i + 1]) or '') == ARGV[i + 1]
end
redis.call('SET', KEYS[2], ARGV[m + 2], 'PX', ARGV[m + 3])
if not unchanged then
  redis.call('DEL', KEYS[1])
  return 0
end
local generations = { '"' .. ARGV[m + 2] .. '"' }
for i = 2, m do
  generations[#generations + 1] = ARGV[i + 1] ~= '' and ('"' .. ARGV[i + 1] .. '"') or 'null'
end
redis.call('SET', KEYS[1], '{"g":[' .. table.concat(generations, ',') .. '],"v":' .. ARGV[m + 4] .. '}', 'PX', ARGV[m + 5])
return 1
`);

/** EVALSHA, loading the script with EVAL the first time a Redis (or a restarted one) lacks it. */
export async function runScript(client: Redis, { lua, sha }: L2Script, keys: string[], args: (string | number)[]): Promise<unknown> {
  try {
    return await client.evalsha(sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.eval(lua, keys.length, ...keys, ...args);
  }
}
