// Who a connection is. A registration (stored, with a server cursor) and a connection token (the
// backend's signed claims, nothing stored) end in the same shape: the relay sees a user, topics
// and grants, never a JWT.
import type { StreamPosition, UserId } from './message.js';

export interface ClientIdentity {
  /** The registration id, or a server-made id for a token connection (no credential). */
  id: string;
  userId: UserId;
  /** Topics the backend gave: allowed, and joined at connect (unless `held` says otherwise). */
  topics: string[];
  grants: string[];
  /** What the client held last time (registrations only). */
  held?: string[] | undefined;
  /** The server's cursors (registrations only; a token connection recovers by `since`). */
  cursors: Record<string, StreamPosition>;
  /** Token connections: when the token expires (ms since epoch). Undefined: a stored registration. */
  expiresAt?: number | undefined;
  /** Token connections: the token's `iat` (seconds), which a revocation compares. */
  issuedAt?: number | undefined;
}

/** What a verified connection token says (DESIGN.md 7). */
export interface TokenGrant {
  user: string;
  topics: string[];
  grants: string[];
  /** ms since epoch */
  expiresAt: number;
  /** seconds since epoch, when the token has `iat` */
  issuedAt: number | undefined;
}
