import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-connection';

/** A Lua script sent by its SHA1 (EVALSHA): the script's text travels only the first time a server sees it. */
export interface Script {
  readonly lua: string;
  readonly sha: string;
}

export function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

/**
 * Runs `s` with its keys and arguments: EVALSHA, and EVAL when the server does not know the script
 * yet (NOSCRIPT: a new or restarted Redis, another node of a cluster), which also loads it there.
 */
export async function runScript(
  redis: RedisClient,
  s: Script,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(s.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!String((err as Error)?.message).startsWith('NOSCRIPT')) throw err;
    return redis.eval(s.lua, keys.length, ...keys, ...args);
  }
}
