import type { Presence, PresenceEvent, PresenceHandler, PresenceMember, PresenceSnapshot } from '../presence.js';
import { LocalPresence, type PresenceWrite } from '../presence-local.js';

interface TopicPresence {
  users: Map<string, number>;
  clients: number;
}

/**
 * One process: this node's share is the whole. Batches are applied to a store of topic ->
 * user -> clients, and the join/leave events are emitted in the same tick, so what get()
 * answers and what the events said agree.
 */
export class MemoryPresence implements Presence {
  readonly #store = new Map<string, TopicPresence>();
  readonly #local: LocalPresence;
  readonly #changed: PresenceHandler;
  #onEvent: PresenceHandler = () => {};

  /** `changed` sees every join/leave as it is applied (webhooks), beside the relay's handler. */
  constructor(changed: PresenceHandler = () => {}) {
    this.#changed = changed;
    this.#local = new LocalPresence(async (writes) => {
      for (const w of writes) this.#apply(w);
      return [];
    });
  }

  add(topic: string, user: string): void {
    this.#local.add(topic, user);
  }

  remove(topic: string, user: string): void {
    this.#local.remove(topic, user);
  }

  flushed(): Promise<void> {
    return this.#local.flushed();
  }

  async get(topic: string, members: boolean): Promise<PresenceSnapshot> {
    const t = this.#store.get(topic);
    const snapshot: PresenceSnapshot = { clients: t?.clients ?? 0, users: t?.users.size ?? 0 };
    if (members) snapshot.members = t ? [...t.users].map(([user, clients]): PresenceMember => ({ user, clients })) : [];
    return snapshot;
  }

  onEvent(handler: PresenceHandler): void {
    this.#onEvent = handler;
  }

  async close(): Promise<void> {
    await this.#local.drain(1_000);
  }

  #apply(w: PresenceWrite): void {
    let t = this.#store.get(w.topic);
    if (!t) this.#store.set(w.topic, (t = { users: new Map(), clients: 0 }));
    const event: PresenceEvent = { topic: w.topic, joined: [], left: [] };
    const set = (user: string, n: number): void => {
      const old = t.users.get(user) ?? 0;
      if (n === old) return;
      t.clients += n - old;
      if (n === 0) {
        t.users.delete(user);
        event.left.push(user);
      } else {
        t.users.set(user, n);
        if (old === 0) event.joined.push(user);
      }
    };
    if (w.replace) {
      const listed = new Set(w.users.map(([u]) => u));
      for (const u of [...t.users.keys()]) if (!listed.has(u)) set(u, 0);
    }
    for (const [user, n] of w.users) set(user, n);
    if (t.users.size === 0) this.#store.delete(w.topic);
    if (event.joined.length > 0 || event.left.length > 0) {
      this.#changed(event);
      this.#onEvent(event);
    }
  }
}
