import { createHash } from 'node:crypto';
import type { RedisClient } from './connection.js';

/** A Lua script run by EVALSHA, loaded with EVAL the first time a node does not know it. */
export class Script {
  readonly #lua: string;
  readonly #sha: string;
  readonly #keys: number;

  constructor(lua: string, keys: number) {
    this.#lua = lua;
    this.#keys = keys;
    this.#sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(client: RedisClient, keys: string[], args: Array<string | number>): Promise<unknown> {
    if (keys.length !== this.#keys) throw new Error(`script expects ${this.#keys} keys, got ${keys.length}`);
    try {
      return await client.evalsha(this.#sha, this.#keys, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return await client.eval(this.#lua, this.#keys, ...keys, ...args);
    }
  }
}
