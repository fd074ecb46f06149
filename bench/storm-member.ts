// One client of the reconnect storm, whatever it is made of (the SDK, or a raw socket), as the
// fleet sees it: it reports each attempt and what became of it.

export interface StormEvents {
  attempt(member: StormMember): void;
  /** The upgrade was answered with this HTTP status instead of 101. */
  refused(member: StormMember, status: number): void;
  /** No HTTP answer: connection refused or reset (the node was down), or a timeout. */
  failedTcp(member: StormMember): void;
  welcome(member: StormMember): void;
  /** A connection that was up went down. */
  drop(member: StormMember): void;
  /** A message of the member's room (its body). */
  data(member: StormMember, body: string): void;
  /** The server's `recovered` for the member's room: it is caught up on this connection. */
  recovered(member: StormMember): void;
  /** The client stopped for good (the SDK on a final close code, e.g. 4000 replaced). */
  gaveUp(member: StormMember, code: number): void;
}

export interface StormMember {
  readonly index: number;
  /** Up and welcomed. */
  readonly connected: boolean;
  /** Stopped for good: it will not come back whatever happens. */
  readonly gone: boolean;
  start(): void;
  close(): void;
}
