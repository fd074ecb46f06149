// The IPC commands of the reconnect-storm scenario (bench/storm.ts drives, bench/storm-fleet.ts
// obeys inside the load generator). Times that cross processes are CLOCK_MONOTONIC in ms
// (process.hrtime), which every process on the machine shares.

/** The project's SDK (HeraldClient, its own backoff with jitter) or raw herald.v1 sockets that come back at once. */
export type StormClientKind = 'sdk' | 'raw';

export interface StormSetupCommand {
  readonly type: 'storm-setup';
  readonly kind: StormClientKind;
  readonly clients: number;
  /** Client i holds room.(i % rooms). */
  readonly rooms: number;
  /** Memory engine: connection tokens signed with this HS256 secret (they outlive a restart); absent: registrations (Redis keeps them). */
  readonly tokenSecret?: string;
  /** Connections opened at once while setting up. */
  readonly concurrency: number;
  /** Source addresses 127.0.0.2 .. 127.0.0.(1+n), used round-robin. */
  readonly sourceAddresses: number;
  readonly deadlineMs: number;
}

/** Starts publishing to the rooms at a steady rate (returns at once); a new ledger phase begins. */
export interface StormPublishCommand {
  readonly type: 'storm-publish';
  readonly ratePerSecond: number;
  /** Keep-alive connections publishing; rooms are split between them, one request in flight each. */
  readonly lanes: number;
  readonly payloadBytes: number;
}

/** Resolves once every client has received a message (so it has a position to resume from). */
export interface StormReadyCommand {
  readonly type: 'storm-ready';
  readonly deadlineMs: number;
}

/** Zeroes the per-storm counters (attempts, 503s, recoveries) just before the node is stopped. */
export interface StormArmCommand {
  readonly type: 'storm-arm';
}

/** Resolves once every client is connected and has recovered its room on a connection made after `afterMonoMs`. */
export interface StormAwaitCommand {
  readonly type: 'storm-await';
  readonly afterMonoMs: number;
  readonly deadlineMs: number;
}

/** Stops the publisher, waits for every confirmed message to arrive, and tallies this phase. */
export interface StormSettleCommand {
  readonly type: 'storm-settle';
  readonly idleTimeoutMs: number;
  readonly deadlineMs: number;
}

export type StormCommand = StormSetupCommand | StormPublishCommand | StormReadyCommand | StormArmCommand | StormAwaitCommand | StormSettleCommand;

export interface StormSetupResult {
  readonly connected: number;
  readonly durationMs: number;
}

export interface StormAwaitResult {
  /** When each recovered client recovered (monotonic ms), ascending. */
  readonly recoveredAt: readonly number[];
  readonly notRecovered: number;
  /** Connections made after afterMonoMs that reached the server's welcome. */
  readonly reconnects: number;
  /** Connection attempts since the arm (including those that failed). */
  readonly attempts: number;
  /** Attempts answered with HTTP 503 (overloaded / too many connections). */
  readonly refused503: number;
  /** Attempts answered with another HTTP status than 101 or 503. */
  readonly refusedOther: number;
  /** Attempts that got no HTTP answer (connection refused or reset while the node was down). */
  readonly failedTcp: number;
  /** Connections that dropped after they were up (1001 from a stopping node, a crash, ...). */
  readonly drops: number;
  /** Clients that stopped for good since the arm, by close code (the SDK on 4000 replaced, 4001, ...). */
  readonly gaveUp: Readonly<Record<string, number>>;
}

export interface StormSettleResult {
  /** Publishes answered 200 in this phase, and the deliveries they owe the clients of their rooms. */
  readonly confirmed: number;
  readonly expected: number;
  readonly delivered: number;
  readonly lost: number;
  /** Of `lost`: answered 200 by the node that was stopped, before it was (gone with it on the memory engine). */
  readonly lostWithNode: number;
  /** A client saw the same message twice. */
  readonly duplicates: number;
  /** A client saw a message of its room after a later one. */
  readonly outOfOrder: number;
  /** A client got a message of another room, or something that is not one of ours. */
  readonly unexpected: number;
  /** Messages whose publish got no 200 (the node died under it) yet arrived: published after all; not an error. */
  readonly unconfirmedDelivered: number;
  /** Publish attempts that failed (no answer, or not 200) and were retried. */
  readonly publishRetries: number;
  readonly publish503: number;
}

export type StormResult =
  | { readonly type: 'storm-setup'; readonly result: StormSetupResult }
  | { readonly type: 'storm-await'; readonly result: StormAwaitResult }
  | { readonly type: 'storm-settle'; readonly result: StormSettleResult }
  | { readonly type: 'storm-ok' };
