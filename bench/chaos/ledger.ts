// The chaos run's books: every publish (its id, topic, user, the offset the server answered, when
// it was acknowledged) and, per client and topic, what arrived in which order. From these it
// counts loss, duplicates and disorder exactly, and tells whether a client has caught up.

/** What POST /publish answered for one publish. */
export type PublishOutcome =
  /** 200 with an offset: in history, must reach every client holding the topic. */
  | 'acked'
  /** 200 with offset 0, `degraded`: Redis was away; local subscribers only, never recovered. */
  | 'degraded'
  /** An error status: not published. */
  | 'refused'
  /** No answer (timeout, reset): it may or may not have been published. */
  | 'unknown';

export interface PublishRecord {
  readonly id: number;
  readonly topic: string;
  readonly user: string | null;
  readonly sentAt: number;
  outcome: PublishOutcome | 'pending';
  offset: number;
  ackedAt: number;
}

/** A run of acknowledgements of one topic (and user, or none): ack times and the max offset so far. */
class Timeline {
  readonly times: number[] = [];
  readonly maxOffsets: number[] = [];

  add(at: number, offset: number): void {
    const prev = this.maxOffsets.length === 0 ? 0 : (this.maxOffsets[this.maxOffsets.length - 1] as number);
    this.times.push(at);
    this.maxOffsets.push(Math.max(prev, offset));
  }

  /** The highest offset acknowledged at or before `at` (0: none). */
  maxAt(at: number): number {
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.times[mid] as number) <= at) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? 0 : (this.maxOffsets[lo - 1] as number);
  }
}

export class PublishLedger {
  readonly records: PublishRecord[] = [];
  readonly #timelines = new Map<string, Timeline>();
  /** Ids below this were published before the chaos began (warm-up); they are not counted. */
  firstCounted = 0;

  start(topic: string, user: string | null): PublishRecord {
    const record: PublishRecord = { id: this.records.length, topic, user, sentAt: Date.now(), outcome: 'pending', offset: 0, ackedAt: 0 };
    this.records.push(record);
    return record;
  }

  settle(record: PublishRecord, outcome: PublishOutcome, offset = 0): void {
    record.outcome = outcome;
    record.offset = offset;
    record.ackedAt = Date.now();
    if (outcome !== 'acked') return;
    const key = `${record.topic}\u0000${record.user ?? ''}`;
    let timeline = this.#timelines.get(key);
    if (timeline === undefined) this.#timelines.set(key, (timeline = new Timeline()));
    timeline.add(record.ackedAt, offset);
  }

  /** The highest offset of `topic` acknowledged at or before `at` that a client of `user` must get. */
  expectedMax(topic: string, user: string, at: number): number {
    const all = this.#timelines.get(`${topic}\u0000`)?.maxAt(at) ?? 0;
    const mine = this.#timelines.get(`${topic}\u0000${user}`)?.maxAt(at) ?? 0;
    return Math.max(all, mine);
  }

  count(outcome: PublishOutcome, from = this.firstCounted): number {
    let n = 0;
    for (let i = from; i < this.records.length; i++) if (this.records[i]!.outcome === outcome) n++;
    return n;
  }

  /** Counted publishes in [from, to) of time with each outcome. */
  outcomesBetween(from: number, to: number): Record<PublishOutcome, number> {
    const out: Record<PublishOutcome, number> = { acked: 0, degraded: 0, refused: 0, unknown: 0 };
    for (let i = this.firstCounted; i < this.records.length; i++) {
      const r = this.records[i]!;
      if (r.sentAt >= from && r.sentAt < to && r.outcome !== 'pending') out[r.outcome]++;
    }
    return out;
  }
}

/** A `recovered {complete:false}` the server sent: messages of the topic up to `offset` may be gone. */
export interface ReportedGap {
  readonly epoch: string;
  /** The highest offset the client had before (0: none). */
  readonly after: number;
  readonly upTo: number;
}

/** What one client received of one topic. */
export class TopicReceipts {
  /** Publish ids in the order they first arrived (a Set keeps insertion order). */
  readonly ids = new Set<number>();
  duplicates = 0;
  /** The highest offset seen (the SDK gives it; a plain client's is looked up from its publish). */
  maxOffset = 0;
  /** Plain clients: ids whose offset was not known yet when they arrived. */
  readonly unresolved: number[] = [];
  readonly gaps: ReportedGap[] = [];
}

export interface ClientBook {
  readonly kind: 'sdk' | 'plain';
  readonly user: string;
  readonly topics: readonly string[];
  readonly receipts: Map<string, TopicReceipts>;
}

export interface LossCounts {
  /** Acknowledged publishes a client should have received and never did. */
  lost: number;
  /** ... of which the server had said were gone (`recovered {complete:false}`): counted apart. */
  reportedGaps: number;
  duplicates: number;
  orderViolations: number;
  /** Messages received whose publish had no acknowledgement (unknown outcome or degraded). */
  unacknowledgedReceived: number;
  expected: number;
  received: number;
  /** A few examples of what was lost, to start a diagnosis from. */
  examples: string[];
}

export function emptyCounts(): LossCounts {
  return { lost: 0, reportedGaps: 0, duplicates: 0, orderViolations: 0, unacknowledgedReceived: 0, expected: 0, received: 0, examples: [] };
}

/** Compares what each client received with what was acknowledged for its topics and user. */
export function countLoss(ledger: PublishLedger, books: readonly ClientBook[], kind: ClientBook['kind'], clientName: (i: number) => string): LossCounts {
  const counts = emptyCounts();
  // Acknowledged, counted publishes by topic.
  const byTopic = new Map<string, PublishRecord[]>();
  for (let i = ledger.firstCounted; i < ledger.records.length; i++) {
    const r = ledger.records[i]!;
    if (r.outcome !== 'acked') continue;
    let list = byTopic.get(r.topic);
    if (list === undefined) byTopic.set(r.topic, (list = []));
    list.push(r);
  }
  books.forEach((book, index) => {
    if (book.kind !== kind) return;
    for (const topic of book.topics) {
      const receipts = book.receipts.get(topic);
      counts.duplicates += receipts?.duplicates ?? 0;
      for (const r of byTopic.get(topic) ?? []) {
        if (r.user !== null && r.user !== book.user) continue;
        counts.expected++;
        if (receipts?.ids.has(r.id) === true) continue;
        const gap = receipts?.gaps.find((g) => r.offset > g.after && r.offset <= g.upTo);
        if (gap !== undefined) {
          counts.reportedGaps++;
          continue;
        }
        counts.lost++;
        if (counts.examples.length < 10) counts.examples.push(`${clientName(index)} (${kind}, user ${book.user}) never got ${topic} offset ${r.offset} (publish #${r.id}, acked at ${new Date(r.ackedAt).toISOString()})`);
      }
      if (receipts === undefined) continue;
      let last = 0;
      for (const id of receipts.ids) {
        if (id < ledger.firstCounted) continue;
        const r = ledger.records[id];
        if (r === undefined || r.outcome !== 'acked') {
          counts.unacknowledgedReceived++;
          continue;
        }
        counts.received++;
        if (r.offset <= last) {
          counts.orderViolations++;
          if (counts.examples.length < 10) counts.examples.push(`${clientName(index)} (${kind}) got ${topic} offset ${r.offset} after ${last}`);
        }
        last = Math.max(last, r.offset);
      }
    }
  });
  return counts;
}
