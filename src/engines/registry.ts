import type { ClientIdentity } from '../core/identity.js';
import type { StreamPosition } from '../core/message.js';

/**
 * A stored registration: a client identity (core/identity.ts) that lives in the engine, with a
 * server cursor and what its client holds, and never a token's expiry.
 */
export interface Registration extends Omit<ClientIdentity, 'expiresAt' | 'issuedAt'> {
  createdAt: number;
}

export interface CursorSave {
  readonly id: string;
  readonly cursors: Record<string, StreamPosition>;
}

export interface RegistrationLimits {
  /** Registrations one user may hold; at the limit the least recently connected unconnected one is evicted. */
  perUser: number;
  /** Registrations in all (per process on memory, per cluster on Redis). */
  total: number;
}

/** What PATCH /register/:id replaces; an absent list stays as it was. */
export interface RightsUpdate {
  topics?: string[] | undefined;
  grants?: string[] | undefined;
  /** The client's held topics after the change (computed by the relay). */
  held?: string[] | undefined;
}

/**
 * Who is registered. A registration lives until deleted, or until it has stayed unconnected
 * for the registration TTL.
 */
export interface Registry {
  /**
   * Stores a new registration. At the per-user limit it evicts (deletes) the user's least
   * recently connected registration that has no live socket and returns its id; fails with
   * `too_many_registrations` when every one is connected, `registrations_full` past the total.
   */
  create(reg: Registration, limits: RegistrationLimits): Promise<{ evicted?: string | undefined }>;
  get(id: string): Promise<Registration | undefined>;
  /** Removes it; false when it did not exist. */
  delete(id: string): Promise<boolean>;
  /** Replaces topics/grants/held at once; undefined when the registration is gone. */
  update(id: string, change: RightsUpdate): Promise<Registration | undefined>;
  /** Stores what the client holds now (restored on its next connection). */
  setHeld(id: string, topics: string[]): Promise<void>;
  saveCursors(id: string, cursors: Record<string, StreamPosition>): Promise<void>;
  /**
   * Saves the cursors of many registrations at once: the engine sends them together where it
   * can (one write per Redis connection instead of one per registration). One result per entry,
   * in order.
   */
  saveManyCursors(entries: ReadonlyArray<CursorSave>): Promise<Array<PromiseSettledResult<void>>>;
  /** A socket is open: the TTL stops counting. */
  markConnected(id: string): Promise<void>;
  /** The socket closed: the TTL starts counting. */
  markDisconnected(id: string): Promise<void>;
  /** Deletes every registration of a user; returns their ids. */
  deleteUser(user: string): Promise<string[]>;
  /**
   * Refuses the user's connection tokens issued at or before `atSeconds` (or with no `iat`)
   * for `ttlMs` (DELETE /users/:user). A later revocation replaces an earlier one.
   */
  revokeUser(user: string, atSeconds: number, ttlMs: number): Promise<void>;
  /** The second of the user's revocation still in force, if any. */
  revokedAt(user: string): Promise<number | undefined>;
  /** Registrations currently stored (for metrics; may be approximate on Redis). */
  count(): Promise<number>;
  close(): Promise<void>;
}
