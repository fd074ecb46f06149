// What the reconnect storm owes every client and what it got: per room, the sequence numbers
// whose publish was answered 200 ("confirmed"); per client, a bitmap of the sequence numbers it
// received. A phase (from one storm-publish to its settle) is tallied on its own.
import type { StormSettleResult } from './storm-protocol.js';

/** A growable bitmap of small non-negative integers. */
class Bits {
  bytes = new Uint8Array(16);

  has(n: number): boolean {
    return ((this.bytes[n >> 3] ?? 0) & (1 << (n & 7))) !== 0;
  }

  /** Sets bit n; false when it was already set. */
  add(n: number): boolean {
    const i = n >> 3;
    if (i >= this.bytes.length) {
      const grown = new Uint8Array(Math.max(i + 1, this.bytes.length * 2));
      grown.set(this.bytes);
      this.bytes = grown;
    }
    const bit = 1 << (n & 7);
    const had = ((this.bytes[i] as number) & bit) !== 0;
    this.bytes[i] = (this.bytes[i] as number) | bit;
    return !had;
  }
}

/** A message body is `room:seq:` padded with 'x'; the room and seq name it uniquely. */
export function stormMessage(room: number, seq: number, payloadBytes: number): string {
  const head = `${room}:${seq}:`;
  return head.length >= payloadBytes ? head : head + 'x'.repeat(payloadBytes - head.length);
}

/** The room and seq of a message body, or null if it is not one of ours. */
export function parseStormMessage(text: string): { room: number; seq: number } | null {
  const first = text.indexOf(':');
  const second = text.indexOf(':', first + 1);
  if (first < 1 || second < 0) return null;
  const room = Number(text.slice(0, first));
  const seq = Number(text.slice(first + 1, second));
  return Number.isInteger(room) && Number.isInteger(seq) && seq > 0 ? { room, seq } : null;
}

export class StormLedger {
  readonly #roomOf: Int32Array;
  readonly #confirmed: Bits[];
  readonly #received: Bits[];
  readonly #lastSeq: Int32Array;
  /** Next seq per room (seqs are never reused, across phases too). */
  readonly #nextSeq: Int32Array;
  /** First seq of the current phase, per room. */
  readonly #phaseFirst: Int32Array;
  /** Seqs below this were handed out while the stopped node was alive (see markNodeGone). */
  readonly #oldNodeBelow: Int32Array;
  readonly #clientsOf: number[];
  #duplicates = 0;
  #outOfOrder = 0;
  #unexpected = 0;
  publishRetries = 0;
  publish503 = 0;

  constructor(clients: number, rooms: number) {
    this.#roomOf = Int32Array.from({ length: clients }, (_v, i) => i % rooms);
    this.#confirmed = Array.from({ length: rooms }, () => new Bits());
    this.#received = Array.from({ length: clients }, () => new Bits());
    this.#lastSeq = new Int32Array(clients);
    this.#nextSeq = new Int32Array(rooms).fill(1);
    this.#phaseFirst = new Int32Array(rooms).fill(1);
    this.#oldNodeBelow = new Int32Array(rooms).fill(1);
    this.#clientsOf = Array.from({ length: rooms }, (_v, r) => Math.floor(clients / rooms) + (r < clients % rooms ? 1 : 0));
  }

  roomOf(client: number): number {
    return this.#roomOf[client] as number;
  }

  /** Whether the client has received anything yet (so it has a position to resume from). */
  hasReceived(client: number): boolean {
    return (this.#lastSeq[client] as number) > 0;
  }

  nextSeq(room: number): number {
    const seq = this.#nextSeq[room] as number;
    this.#nextSeq[room] = seq + 1;
    return seq;
  }

  /**
   * The node is gone: every seq handed out so far was sent to it (or to nobody), so a confirmed
   * one was answered 200 by the node that just died. What it never wrote is gone with it on the
   * memory engine; settle() counts those apart (lostWithNode).
   */
  markNodeGone(): void {
    this.#oldNodeBelow.set(this.#nextSeq);
  }

  confirm(room: number, seq: number): void {
    this.#confirmed[room]?.add(seq);
  }

  receive(client: number, text: string): void {
    const m = parseStormMessage(text);
    if (m === null || m.room !== this.#roomOf[client]) {
      this.#unexpected++;
      return;
    }
    if (!(this.#received[client] as Bits).add(m.seq)) {
      this.#duplicates++;
      return;
    }
    if (m.seq < (this.#lastSeq[client] as number)) this.#outOfOrder++;
    else this.#lastSeq[client] = m.seq;
  }

  /** Confirmed deliveries of this phase not received yet (a full scan: call it a few times a second at most). */
  missing(): number {
    let missing = 0;
    for (let c = 0; c < this.#roomOf.length; c++) {
      const room = this.#roomOf[c] as number;
      const confirmed = this.#confirmed[room] as Bits;
      const got = this.#received[c] as Bits;
      for (let seq = this.#phaseFirst[room] as number; seq < (this.#nextSeq[room] as number); seq++) {
        if (confirmed.has(seq) && !got.has(seq)) missing++;
      }
    }
    return missing;
  }

  /** This phase's figures; the next phase starts after the last seq handed out so far. */
  settle(): StormSettleResult {
    let confirmed = 0;
    let expected = 0;
    for (let room = 0; room < this.#confirmed.length; room++) {
      const bits = this.#confirmed[room] as Bits;
      let n = 0;
      for (let seq = this.#phaseFirst[room] as number; seq < (this.#nextSeq[room] as number); seq++) if (bits.has(seq)) n++;
      confirmed += n;
      expected += n * (this.#clientsOf[room] as number);
    }
    let delivered = 0;
    let unconfirmedDelivered = 0;
    let lostWithNode = 0;
    for (let c = 0; c < this.#roomOf.length; c++) {
      const room = this.#roomOf[c] as number;
      const bits = this.#confirmed[room] as Bits;
      const got = this.#received[c] as Bits;
      for (let seq = this.#phaseFirst[room] as number; seq < (this.#nextSeq[room] as number); seq++) {
        if (!got.has(seq)) {
          if (bits.has(seq) && seq < (this.#oldNodeBelow[room] as number)) lostWithNode++;
          continue;
        }
        if (bits.has(seq)) delivered++;
        else unconfirmedDelivered++;
      }
    }
    const result: StormSettleResult = {
      confirmed,
      expected,
      delivered,
      lost: expected - delivered,
      lostWithNode,
      duplicates: this.#duplicates,
      outOfOrder: this.#outOfOrder,
      unexpected: this.#unexpected,
      unconfirmedDelivered,
      publishRetries: this.publishRetries,
      publish503: this.publish503,
    };
    this.#phaseFirst.set(this.#nextSeq);
    this.#duplicates = this.#outOfOrder = this.#unexpected = 0;
    this.publishRetries = this.publish503 = 0;
    return result;
  }
}
