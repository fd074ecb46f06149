import type { Message, PublishInput } from '../core/message.js';

export type MessageHandler = (message: Message) => void;

/**
 * Control events between nodes: a client unregistered or replaced (kick), so the node holding its
 * socket closes it; or its rights changed (PATCH /register/:id), so that socket follows; or its
 * user was revoked (DELETE /users/:user) at second `at`, so every node closes the user's sockets
 * (a token socket only when its token was issued at or before `at`).
 * `node` is the sender's node id: a node ignores its own events. `before` (ms since epoch), when
 * set, limits the kick to sockets connected before it: a replacement's kick that arrives late
 * must not close an even newer connection of the same client.
 */
export type ControlEvent =
  | { type: 'kick'; node: string; clientId: string; code: number; reason: string; before?: number }
  | { type: 'rights'; node: string; clientId: string; topics: string[]; grants: string[] }
  | { type: 'revoke'; node: string; user: string; at: number };
export type ControlHandler = (event: ControlEvent) => void;

/**
 * Carries a publish to every node that has subscribers for its topic. Publishing assigns the
 * topic's next offset and appends to its history atomically, so order and offsets agree everywhere.
 */
export interface Broker {
  publish(input: PublishInput): Promise<Message>;
  /** Deliveries for subscribed topics go to this handler, in offset order per topic. */
  onMessage(handler: MessageHandler): void;
  /** Resolves once messages of `topic` published from now on will reach onMessage. Idempotent. */
  subscribe(topic: string): Promise<void>;
  /**
   * Resolves once every message of `topic` published before the call has reached onMessage
   * (e.g. a PING on the subscriber connection). Optional: engines that deliver synchronously skip it.
   */
  fence?(topic: string): Promise<void>;
  /** This node no longer wants `topic`. */
  unsubscribe(topic: string): Promise<void>;
  sendControl(event: ControlEvent): Promise<void>;
  onControl(handler: ControlHandler): void;
  close(): Promise<void>;
}
