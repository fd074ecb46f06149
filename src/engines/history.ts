import type { Message, StreamPosition } from '../core/message.js';

export interface Recovery {
  /** Messages after the requested offset, oldest first (may be empty). */
  messages: Message[];
  /** The topic's position when read: the seam between replay and live. */
  position: StreamPosition;
  /** False when some missed messages are gone (older than history, or another epoch). */
  complete: boolean;
}

/** Recent messages per topic, with offsets and an epoch. Appending is the Broker's job. */
export interface History {
  /** The topic's current position ({offset: 0, epoch} for a topic never published). */
  position(topic: string): Promise<StreamPosition>;
  /**
   * What a client at `since` missed. With `maxBytes`, only the newest messages whose encoded
   * size fits are read (at least one), and a gap cut that way is complete:false.
   */
  since(topic: string, since: StreamPosition, maxBytes?: number): Promise<Recovery>;
  /** Rough size, for metrics: topics kept and messages kept. */
  stats(): Promise<{ topics: number; messages: number; bytes: number }>;
}
