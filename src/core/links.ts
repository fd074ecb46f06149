import type { Link } from './session.js';

/** Up to this many topics a flat array is searched; beyond, a Map takes over. */
const FLAT_MAX = 16;

/**
 * A session's topics and its Link in each, in the order they were joined. Most clients follow
 * one topic, and a Map costs ~300 bytes even for one entry: a single topic is held in two
 * fields (no array at all), a few in a flat [topic, link, topic, link, ...] array, many in a Map.
 */
export class Links {
  /** The only topic, while the session has held no more than one. */
  #topic: string | undefined;
  #link: Link | undefined;
  #flat: Array<string | Link> | undefined;
  #map: Map<string, Link> | undefined;

  get size(): number {
    if (this.#map) return this.#map.size;
    if (this.#flat) return this.#flat.length / 2;
    return this.#topic === undefined ? 0 : 1;
  }

  get(topic: string): Link | undefined {
    if (this.#topic === topic) return this.#link;
    if (this.#map) return this.#map.get(topic);
    const flat = this.#flat;
    if (!flat) return undefined;
    for (let i = 0; i < flat.length; i += 2) if (flat[i] === topic) return flat[i + 1] as Link;
    return undefined;
  }

  has(topic: string): boolean {
    return this.get(topic) !== undefined;
  }

  set(topic: string, link: Link): void {
    if (this.#map) {
      this.#map.set(topic, link);
      return;
    }
    const flat = this.#flat;
    if (!flat) {
      if (this.#topic === undefined || this.#topic === topic) {
        this.#topic = topic;
        this.#link = link;
        return;
      }
      // A second topic: both move to the flat array.
      this.#flat = [this.#topic, this.#link!, topic, link];
      this.#topic = undefined;
      this.#link = undefined;
      return;
    }
    for (let i = 0; i < flat.length; i += 2) {
      if (flat[i] === topic) {
        flat[i + 1] = link;
        return;
      }
    }
    if (flat.length < FLAT_MAX * 2) {
      flat.push(topic, link);
      return;
    }
    const map = new Map<string, Link>();
    for (let i = 0; i < flat.length; i += 2) map.set(flat[i] as string, flat[i + 1] as Link);
    map.set(topic, link);
    this.#map = map;
    this.#flat = undefined;
  }

  delete(topic: string): boolean {
    if (this.#topic === topic) {
      this.#topic = undefined;
      this.#link = undefined;
      return true;
    }
    if (this.#map) return this.#map.delete(topic);
    const flat = this.#flat;
    if (!flat) return false;
    for (let i = 0; i < flat.length; i += 2) {
      if (flat[i] === topic) {
        if (flat.length === 2) this.#flat = undefined;
        else flat.splice(i, 2);
        return true;
      }
    }
    return false;
  }

  /** The topics, in join order (a copy: safe to change the links while iterating it). */
  topics(): string[] {
    if (this.#topic !== undefined) return [this.#topic];
    if (this.#map) return [...this.#map.keys()];
    const flat = this.#flat;
    const out: string[] = [];
    if (flat) for (let i = 0; i < flat.length; i += 2) out.push(flat[i] as string);
    return out;
  }
}
