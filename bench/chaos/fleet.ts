// The chaos run's clients: herald.v1 clients through the SDK (which reconnect and recover by
// `since` on their own) and plain WebSocket clients (which reconnect to the same URL and are
// recovered from the server's cursor). Each records what it received per topic in a ClientBook.
import { WebSocket } from 'ws';
import { HeraldClient } from '../../client/index.js';
import { TopicReceipts, type ClientBook, type PublishLedger } from './ledger.js';

/** What every chaos publish carries: its id in the ledger and its topic. */
export interface ChaosPayload {
  readonly i: number;
  readonly t: string;
}

/**
 * One client of the run. SSE (GET /sse/:id, issue 15) is the third kind to add here: a client
 * that reads the event stream, records each `data:` message's id per topic like the SDK client,
 * reconnects with `Last-Event-ID`, and turns `event: recovered` with complete:false into a gap;
 * `ClientBook.kind` and `countLoss` then take 'sse' as they take 'sdk' and 'plain'.
 */
export interface ChaosClient extends ClientBook {
  readonly name: string;
  connected(): boolean;
  /** Connections lost so far. */
  readonly drops: number;
  /** The highest offset received for `topic` (plain: of the publishes acknowledged by now). */
  maxOffset(topic: string, ledger: PublishLedger): number;
  start(): void;
  close(): Promise<void>;
}

function isPayload(v: unknown): v is ChaosPayload {
  return typeof v === 'object' && v !== null && typeof (v as ChaosPayload).i === 'number' && typeof (v as ChaosPayload).t === 'string';
}

function receiptsFor(map: Map<string, TopicReceipts>, topic: string): TopicReceipts {
  let r = map.get(topic);
  if (r === undefined) map.set(topic, (r = new TopicReceipts()));
  return r;
}

function record(receipts: TopicReceipts, id: number): boolean {
  if (receipts.ids.has(id)) {
    receipts.duplicates++;
    return false;
  }
  receipts.ids.add(id);
  return true;
}

export class SdkChaosClient implements ChaosClient {
  readonly kind = 'sdk' as const;
  readonly receipts = new Map<string, TopicReceipts>();
  readonly #client: HeraldClient;
  drops = 0;
  /** Frames that were not chaos messages or were of a topic the client does not hold. */
  strays = 0;

  constructor(
    readonly name: string,
    url: string,
    readonly user: string,
    readonly topics: readonly string[],
  ) {
    this.#client = new HeraldClient(url, { backoff: { minMs: 250, maxMs: 5000 } });
    this.#client.on('message', (m) => {
      if (!isPayload(m.data) || m.data.t !== m.topic || !this.topics.includes(m.topic)) {
        this.strays++;
        return;
      }
      const receipts = receiptsFor(this.receipts, m.topic);
      if (record(receipts, m.data.i)) receipts.maxOffset = Math.max(receipts.maxOffset, m.offset);
    });
    this.#client.on('recovered', (r) => {
      if (r.complete) return;
      const receipts = receiptsFor(this.receipts, r.topic);
      receipts.gaps.push({ epoch: r.epoch, after: receipts.maxOffset, upTo: r.offset });
    });
    this.#client.on('state', ({ state, previous }) => {
      if (previous === 'connected' && state !== 'connected') this.drops++;
    });
    // Errors that answer no request (e.g. an unreadable frame) must not crash the run; they are rare.
    this.#client.on('error', () => {});
  }

  connected(): boolean {
    return this.#client.state === 'connected';
  }

  maxOffset(topic: string): number {
    return this.receipts.get(topic)?.maxOffset ?? 0;
  }

  start(): void {
    this.#client.connect().catch(() => {});
  }

  async close(): Promise<void> {
    await this.#client.close().catch(() => {});
  }
}

/**
 * A plain-protocol client as an application would write one with `ws`: on a close it reconnects
 * to the same URL after a random 250-2000 ms, and gives up on a connection not open in 10 s.
 */
export class PlainChaosClient implements ChaosClient {
  readonly kind = 'plain' as const;
  readonly receipts = new Map<string, TopicReceipts>();
  drops = 0;
  strays = 0;
  #ws: WebSocket | null = null;
  #closing = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    readonly url: string,
    readonly user: string,
    readonly topics: readonly string[],
  ) {}

  connected(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  maxOffset(topic: string, ledger: PublishLedger): number {
    const receipts = this.receipts.get(topic);
    if (receipts === undefined) return 0;
    // Offsets are learnt from the publish's answer, which may come after the delivery.
    let keep = 0;
    for (const id of receipts.unresolved) {
      const r = ledger.records[id];
      if (r !== undefined && r.outcome === 'acked') receipts.maxOffset = Math.max(receipts.maxOffset, r.offset);
      else if (r === undefined || r.outcome === 'pending') receipts.unresolved[keep++] = id;
    }
    receipts.unresolved.length = keep;
    return receipts.maxOffset;
  }

  start(): void {
    if (this.#closing) return;
    const ws = new WebSocket(this.url);
    this.#ws = ws;
    let opened = false;
    const openTimer = setTimeout(() => ws.terminate(), 10_000);
    ws.on('open', () => {
      opened = true;
      clearTimeout(openTimer);
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let payload: unknown;
      try {
        payload = JSON.parse(String(data));
      } catch {
        this.strays++;
        return;
      }
      if (!isPayload(payload) || !this.topics.includes(payload.t)) {
        this.strays++;
        return;
      }
      const receipts = receiptsFor(this.receipts, payload.t);
      if (record(receipts, payload.i)) receipts.unresolved.push(payload.i);
    });
    ws.on('error', () => {});
    ws.on('close', (code) => {
      clearTimeout(openTimer);
      if (opened) this.drops++;
      if (this.#ws !== ws || this.#closing) return;
      this.#ws = null;
      // 4000 (replaced) and 4001 (unregistered) are final: nothing in this run causes them.
      if (code === 4000 || code === 4001) return;
      this.#timer = setTimeout(() => this.start(), 250 + Math.random() * 1750);
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#timer);
    const ws = this.#ws;
    this.#ws = null;
    if (ws === null || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.close(1000);
    });
  }
}
