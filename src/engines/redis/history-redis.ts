import { randomBytes } from 'node:crypto';
import type { Message, StreamPosition } from '../../core/message.js';
import type { History, Recovery } from '../history.js';
import { masters } from './connection.js';
import { positionScript, sinceScript } from './history-scripts.js';
import type { RedisKeys } from './keys.js';
import type { RedisLink } from './link.js';
import { decodeMessage } from './message-codec.js';

/** A fresh epoch, offered to Redis with each publish in case the topic has none yet. */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}

// stats() scans, so it looks at no more than this many topics (a lower bound beyond that).
const statsScanLimit = 10_000;

/** Recent messages per topic in Redis: a capped stream plus {offset, epoch}, written by publish. */
export class RedisHistory implements History {
  readonly #link: RedisLink;
  readonly #keys: RedisKeys;

  constructor(link: RedisLink, keys: RedisKeys) {
    this.#link = link;
    this.#keys = keys;
  }

  async position(topic: string): Promise<StreamPosition> {
    const [offset, epoch] = (await this.#link.call((c) => positionScript.run(c, [this.#keys.meta(topic), this.#keys.log(topic)], []))) as [number, string];
    return { offset, epoch };
  }

  async since(topic: string, since: StreamPosition, maxBytes = 0): Promise<Recovery> {
    const keys = [this.#keys.meta(topic), this.#keys.log(topic)];
    // The cap is applied in Redis: a long gap never crosses the network whole.
    const reply = (await this.#link.call((c) => sinceScript.run(c, keys, [since.offset, since.epoch, maxBytes]))) as [number, string, number, ...string[]];
    const [offset, epoch, complete, ...encoded] = reply;
    const messages: Message[] = [];
    for (const text of encoded) {
      const m = decodeMessage(text);
      if (m) messages.push(m);
    }
    return { messages, position: { offset, epoch }, complete: complete === 1 };
  }

  async stats(): Promise<{ topics: number; messages: number; bytes: number }> {
    return await this.#link.call(async (client) => {
      const metas: string[] = [];
      let partial = false; // stop at the limit: metrics must stay cheap
      for (const node of masters(client)) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', this.#keys.metaPattern(), 'COUNT', 1000);
          cursor = next;
          metas.push(...keys);
          if (metas.length >= statsScanLimit) partial = true;
        } while (cursor !== '0' && !partial);
        if (partial) break;
      }
      const sizes = await Promise.all(
        metas.map(async (meta) => {
          const log = this.#keys.logOfMeta(meta);
          const [len, bytes] = await Promise.all([client.xlen(log), client.memory('USAGE', log)]);
          return { len, bytes: Number(bytes ?? 0) };
        }),
      );
      const messages = sizes.reduce((n, s) => n + s.len, 0);
      const bytes = sizes.reduce((n, s) => n + s.bytes, 0);
      return { topics: metas.length, messages, bytes };
    });
  }
}
