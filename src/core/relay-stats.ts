import type { ProtocolName } from './outgoing.js';
import { WebhookStats } from './webhook-sender.js';

export type DropReason = 'slow_consumer' | 'rate_limit' | 'too_large';
/** A client request refused without closing its connection: see herald_refusals_total in docs/operations.md. */
export type RefusalReason = 'forbidden_topic' | 'forbidden_publish' | 'too_deep' | 'handler_error' | 'publish_topics' | 'register_rate' | 'overloaded';

/** What the relay reports as traffic flows; /metrics and the dashboard read it. */
export interface RelayStats {
  registered(): void;
  published(): void;
  connected(protocol: ProtocolName, delta: 1 | -1): void;
  /** A flush wrote `deliveries` frames in `writes` socket writes; `firstTs` is the publish time of its oldest message. */
  flushed(deliveries: number, writes: number, firstTs: number): void;
  dropped(reason: DropReason): void;
  refused(reason: RefusalReason): void;
  recovered(messages: number, complete: boolean): void;
}

/** Plain counters: cheap enough for the hot path, read by whoever exports them. */
export class CountingStats implements RelayStats {
  registrations = 0;
  publishes = 0;
  deliveries = 0;
  /** Socket writes that carried deliveries: deliveries / writes is messages per write. */
  socketWrites = 0;
  recoveredMessages = 0;
  incompleteRecoveries = 0;
  readonly connections: Record<ProtocolName, number> = { plain: 0, 'herald.v1': 0, sse: 0 };
  readonly drops: Record<DropReason, number> = { slow_consumer: 0, rate_limit: 0, too_large: 0 };
  readonly refusals: Record<RefusalReason, number> = { forbidden_topic: 0, forbidden_publish: 0, too_deep: 0, handler_error: 0, publish_topics: 0, register_rate: 0, overloaded: 0 };
  /** Publish-to-write latencies (ms) since the last drain, for a histogram. */
  latencies: number[] = [];
  /** Webhook deliveries (core/webhook-sender.ts). */
  readonly webhooks = new WebhookStats();

  registered(): void {
    this.registrations++;
  }
  published(): void {
    this.publishes++;
  }
  connected(protocol: ProtocolName, delta: 1 | -1): void {
    this.connections[protocol] += delta;
  }
  flushed(deliveries: number, writes: number, firstTs: number): void {
    this.deliveries += deliveries;
    this.socketWrites += writes;
    if (this.latencies.length < 10_000) this.latencies.push(Date.now() - firstTs);
  }
  dropped(reason: DropReason): void {
    this.drops[reason]++;
  }
  refused(reason: RefusalReason): void {
    this.refusals[reason]++;
  }
  recovered(messages: number, complete: boolean): void {
    this.recoveredMessages += messages;
    if (!complete) this.incompleteRecoveries++;
  }
  /** Takes the latencies gathered so far. */
  drainLatencies(): number[] {
    const l = this.latencies;
    this.latencies = [];
    return l;
  }
}
