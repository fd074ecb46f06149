// The IPC conversation between bench/run.ts and the load generator child process.
import type { StormCommand, StormResult } from './storm-protocol.js';
// run.ts reads both processes' CPU before a command and after its reply, so every command is
// one measurement window.

export interface RegisterCommand {
  readonly type: 'register';
  readonly count: number;
  /** Every client registers with these topics; user_id is the client's index. */
  readonly topics: readonly string[];
  readonly concurrency: number;
  /** Which server (index into the load generator's --port list) registers them and holds their sockets; default 0. */
  readonly node?: number;
}

export interface ConnectCommand {
  readonly type: 'connect';
  /** How many upgrade handshakes are in flight at once. */
  readonly concurrency: number;
  /** Source addresses 127.0.0.2 .. 127.0.0.(1+n), used round-robin. */
  readonly sourceAddresses: number;
  /** WebSockets (default) or Server-Sent Events streams (GET /sse/:id). */
  readonly transport?: 'websocket' | 'sse';
}

export interface FanoutCommand {
  readonly type: 'fanout';
  readonly topic: string;
  readonly publishes: number;
  readonly concurrency: number;
  readonly payloadBytes: number;
  /** Every n-th subscriber reads the send timestamp of each message (latency sampling). */
  readonly sampleEvery: number;
  readonly idleTimeoutMs: number;
  /** Spread the publishing connections evenly over every server of the --port list (a cluster). */
  readonly spread?: boolean;
}

export interface UnicastCommand {
  readonly type: 'unicast';
  readonly topic: string;
  readonly publishes: number;
  /** 1: POST /publish per message; more: POST /publish/batch with this many messages. */
  readonly batchSize: number;
  readonly concurrency: number;
  readonly payloadBytes: number;
  readonly idleTimeoutMs: number;
}

export interface SteadyCommand {
  readonly type: 'steady';
  readonly topic: string;
  readonly ratePerSecond: number;
  readonly durationMs: number;
  readonly payloadBytes: number;
  readonly idleTimeoutMs: number;
}

export interface CloseCommand {
  readonly type: 'close';
}

export type LoadCommand =
  | RegisterCommand
  | ConnectCommand
  | FanoutCommand
  | UnicastCommand
  | SteadyCommand
  | StormCommand
  | CloseCommand;

/** What a delivery phase observed. */
export interface DeliveryResult {
  readonly publishes: number;
  readonly expected: number;
  readonly delivered: number;
  /** Expected deliveries that never arrived (must be 0). */
  readonly lost: number;
  /** Deliveries nobody expected (a unicast reaching the wrong client; must be 0). */
  readonly unexpected: number;
  /** Sampled subscribers that saw the topic's messages in another order than the first one. */
  readonly orderMismatches: number;
  readonly closedSockets: number;
  readonly httpErrors: number;
  /** From the first publish sent to the last expected delivery (or to giving up). */
  readonly durationMs: number;
  readonly latency: LatencySummary | null;
}

export interface LatencySummary {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface RegisterResult {
  readonly registered: number;
  readonly durationMs: number;
}

export interface ConnectResult {
  readonly connected: number;
  readonly failed: number;
  readonly firstError: string | null;
  readonly durationMs: number;
}

export type LoadReply =
  | { readonly type: 'ready'; readonly openFileLimit: number }
  | { readonly type: 'register'; readonly result: RegisterResult }
  | { readonly type: 'connect'; readonly result: ConnectResult }
  | { readonly type: 'delivery'; readonly result: DeliveryResult }
  | { readonly type: 'closed' }
  | { readonly type: 'storm'; readonly result: StormResult }
  | { readonly type: 'error'; readonly message: string };
