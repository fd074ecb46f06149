import type { StreamPosition, UserId } from '../core/message.js';

export interface Registration {
  id: string;
  userId: UserId;
  topics: string[];
  /** Last offset written to this registration's socket, per topic (plain-client recovery). */
  cursors: Record<string, StreamPosition>;
  createdAt: number;
}

export interface CursorSave {
  readonly id: string;
  readonly cursors: Record<string, StreamPosition>;
}

/**
 * Who is registered. A registration lives until deleted, or until it has stayed unconnected
 * for the registration TTL.
 */
export interface Registry {
  /** Stores a new registration; fails with `too_many_registrations` past the per-user limit. */
  create(reg: Registration, maxPerUser: number): Promise<void>;
  get(id: string): Promise<Registration | undefined>;
  /** Removes it; false when it did not exist. */
  delete(id: string): Promise<boolean>;
  setTopics(id: string, topics: string[]): Promise<void>;
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
  /** Registrations currently stored (for metrics; may be approximate on Redis). */
  count(): Promise<number>;
  close(): Promise<void>;
}
