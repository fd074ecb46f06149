// The Herald client SDK: a herald.v1 WebSocket client for browsers and Node 20+.
export { HeraldClient } from './herald-client.js';
export type { CloseInfo, ConnectionState, HeraldClientConfig, HeraldClientEvents, HeraldClientOptions, PresenceChange, PresenceInfo, StateChange, Transport, Welcome } from './client-types.js';
export type { SseFactory, SseHandlers, SseStream } from './sse-stream.js';
export { Subscription } from './subscription.js';
export type { SubscriptionEvents, SubscriptionState } from './subscription.js';
export type { HeraldMessage, Recovery } from './message.js';
export { HeraldError } from './herald-error.js';
export { Backoff } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { CloseCode, describeCloseCode, isFinalCloseCode } from './close-codes.js';
export { Emitter } from './emitter.js';
export type { Listener } from './emitter.js';
export { wsSocketFactory } from './socket.js';
export type { Refusal, SocketFactory, SocketLike, WsOptions } from './socket.js';
export { parseRetryAfter } from './retry-after.js';
export type { JsonValue, Position } from './wire.js';
