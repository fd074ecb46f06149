// Webhooks (DESIGN.md 10): the backend learns, cluster-wide, when a topic fills and empties and,
// on presence topics, when a user's first client joins and last client leaves. The engine keeps
// the events and their delivery state; core/webhook-sender.ts POSTs them.
import type { PresenceEvent } from './presence.js';

export type WebhookType = 'topic.occupied' | 'topic.vacated' | 'member.joined' | 'member.left';

/** What a change hands to the queue: the queue gives it an id and a time. */
export interface WebhookNotice {
  type: WebhookType;
  topic: string;
  /** The user key (String(user id)); only on member.* events. Never a registration id. */
  user?: string;
  /** Given when the event already has one (moved from elsewhere: a second move repeats it). */
  id?: string;
  time?: number;
}

/** An event as POSTed: `time` in ms since the epoch; a redelivery carries the same id. */
export interface WebhookEvent extends WebhookNotice {
  id: string;
  time: number;
  /** The queue's own handle of the event, when it is not the id (never sent). */
  entry?: string;
}

/**
 * The events on their way to the backend, in order. take() hands out the oldest undelivered
 * events (on Redis: only on the node that holds the delivery lease, so one node delivers, in
 * order); they stay until ack(). Past `maxPending` undelivered events, new ones are dropped and
 * counted (dropped()).
 */
export interface WebhookQueue {
  /** Appends events in this order (a no-op while webhooks are off). */
  add(notices: WebhookNotice[]): Promise<void>;
  /** At most `max` of the oldest undelivered events; [] when none, or when another node delivers. */
  take(max: number): Promise<WebhookEvent[]>;
  /** These events were delivered: they are gone for good. */
  ack(events: WebhookEvent[]): Promise<void>;
  /** Events dropped past the bound since the last call. */
  dropped(): Promise<number>;
  /** Called when this node added events (the sender wakes up). */
  onAdded(handler: () => void): void;
  close(): Promise<void>;
}

/** The member events of a presence change: joins first, then leaves, in the order given. */
export function memberNotices(e: PresenceEvent): WebhookNotice[] {
  return [
    ...e.joined.map((user): WebhookNotice => ({ type: 'member.joined', topic: e.topic, user })),
    ...e.left.map((user): WebhookNotice => ({ type: 'member.left', topic: e.topic, user })),
  ];
}
