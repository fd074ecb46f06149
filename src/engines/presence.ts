// Presence: who holds a topic, across every node. Users are given by their user key
// (String(user id): 1 and "1" are one user); registration ids never enter presence.

/** One user's clients (sockets) holding a topic. */
export interface PresenceMember {
  user: string;
  clients: number;
}

export interface PresenceSnapshot {
  /** Sockets holding the topic, on every node. */
  clients: number;
  /** Distinct users among them. */
  users: number;
  /** Present when asked for: every user with their client count. */
  members?: PresenceMember[];
}

/** Users whose first client joined (`joined`) or whose last client left (`left`) a topic, cluster-wide. */
export interface PresenceEvent {
  topic: string;
  joined: string[];
  left: string[];
}

export type PresenceHandler = (event: PresenceEvent) => void;

/**
 * This node's share of presence, and the cluster's sum of every node's share. add/remove are
 * counted at once and written in batches (one per topic per flush); the join/leave events they
 * cause reach onEvent on every node that follows the topic (redis: through the topic's own
 * channel, in order with its messages). A node's entries carry a TTL it renews, so a dead
 * node's members are gone within it.
 */
export interface Presence {
  /** One more of this node's clients of `user` holds `topic`. */
  add(topic: string, user: string): void;
  /** One client fewer. */
  remove(topic: string, user: string): void;
  /** Resolves once every add/remove made before the call is written (or failed; never rejects). */
  flushed(): Promise<void>;
  /** Counts, and the members when `members` is true. */
  get(topic: string, members: boolean): Promise<PresenceSnapshot>;
  onEvent(handler: PresenceHandler): void;
  close(): Promise<void>;
}
