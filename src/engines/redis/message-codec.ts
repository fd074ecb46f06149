import type { Message, PayloadKind, PublishInput, UserId } from '../../core/message.js';

// A message travels through Redis as JSON: the node writes the fields it knows, the publish
// script appends offset, epoch and ts; the same text is kept in history and published live.

/** The JSON of a message up to (without) its closing "}", for the publish script to finish. */
export function encodeHead(id: string, input: PublishInput): string {
  const head: Record<string, unknown> = { id, topic: input.topic, kind: input.kind, body: input.body };
  if (input.userId !== undefined) head['userId'] = input.userId;
  if (input.fromUser !== undefined) head['fromUser'] = input.fromUser;
  return JSON.stringify(head).slice(0, -1);
}

const kinds: ReadonlySet<string> = new Set<PayloadKind>(['text', 'json', 'binary']);

/** Parses a message written by the publish script; undefined when it is not one. */
export function decodeMessage(text: string): Message | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const userId = o['userId'];
  if (typeof o['id'] !== 'string' || typeof o['topic'] !== 'string' || typeof o['body'] !== 'string') return undefined;
  if (typeof o['kind'] !== 'string' || !kinds.has(o['kind'])) return undefined;
  if (typeof o['offset'] !== 'number' || typeof o['epoch'] !== 'string' || typeof o['ts'] !== 'number') return undefined;
  if (userId !== undefined && typeof userId !== 'string' && typeof userId !== 'number') return undefined;
  const fromUser = o['fromUser'];
  if (fromUser !== undefined && typeof fromUser !== 'string' && typeof fromUser !== 'number') return undefined;
  // Same fields in the same order as the memory engine's messages.
  return {
    id: o['id'],
    topic: o['topic'],
    userId: userId as UserId | undefined,
    kind: o['kind'] as PayloadKind,
    body: o['body'],
    offset: o['offset'],
    epoch: o['epoch'],
    ts: o['ts'],
    fromUser: fromUser as UserId | undefined,
  };
}
