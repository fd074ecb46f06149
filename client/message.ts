import { decodeBase64 } from './wire.js';
import type { JsonValue, MessageFrame, RecoveredFrame } from './wire.js';

/**
 * One message of a topic. `data` holds what was published as `message` (a string) or `data`
 * (JSON); `binary` holds the bytes of a binary publish. `offset` counts 1, 2, 3... per topic
 * within an `epoch`; a new epoch means the server lost that topic's history.
 */
export interface HeraldMessage<T = JsonValue> {
  topic: string;
  data?: T;
  binary?: Uint8Array;
  offset: number;
  epoch: string;
  /** When the server accepted the publish (ms since the Unix epoch). */
  ts: number;
  /** Set when another client published it (`client.publish`), not a backend: who sent it. */
  from?: { user: string | number };
}

/**
 * The seam after a catch-up: everything the client missed up to `offset` was replayed just
 * before this event, unless `complete` is false (the gap was older than the history, or the
 * epoch changed), in which case some messages are gone for good.
 */
export interface Recovery {
  topic: string;
  epoch: string;
  offset: number;
  complete: boolean;
}

export function toMessage<T>(frame: MessageFrame): HeraldMessage<T> {
  const message: HeraldMessage<T> = { topic: frame.topic, offset: frame.offset, epoch: frame.epoch, ts: frame.ts };
  if (frame.binary !== undefined) message.binary = decodeBase64(frame.binary);
  else if (frame.data !== undefined) message.data = frame.data as T;
  if (frame.from !== undefined && (typeof frame.from.user === 'string' || typeof frame.from.user === 'number')) message.from = { user: frame.from.user };
  return message;
}

export function toRecovery(frame: RecoveredFrame): Recovery {
  return { topic: frame.topic, epoch: frame.epoch, offset: frame.offset, complete: frame.complete !== false };
}
