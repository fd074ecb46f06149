import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CountingStats } from './relay-stats.js';
import type { Relay } from './relay.js';

/** Publish-to-write latency buckets (seconds): the hot path is sub-millisecond on loopback. */
const latencyBuckets = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * A Prometheus registry of one Herald app. Values are read from the relay's CountingStats when
 * scraped (collect), so the hot path only bumps plain numbers. A registry per app, never the
 * global one, so several apps in one process (tests) do not clash.
 */
export function createMetricsRegistry(relay: Relay, stats: CountingStats): Registry {
  const register = new Registry();
  register.setDefaultLabels({ node: relay.nodeId });
  collectDefaultMetrics({ register });
  const registers = [register];

  // Counters are set from totals: reset + inc keeps them monotonic as long as the totals are.
  const total = (name: string, help: string, read: () => number): void => {
    new Counter({ name, help, registers, collect() { this.reset(); this.inc(read()); } });
  };

  new Gauge({
    name: 'herald_connections',
    help: 'Open WebSocket connections on this node, by wire protocol.',
    labelNames: ['protocol'],
    registers,
    collect() {
      for (const [protocol, n] of Object.entries(stats.connections)) this.set({ protocol }, n);
    },
  });
  total('herald_registrations_total', 'Registrations created through this node.', () => stats.registrations);
  total('herald_publishes_total', 'Messages published through this node (HTTP and client publishes).', () => stats.publishes);
  total('herald_deliveries_total', 'Messages written to sockets on this node.', () => stats.deliveries);
  total('herald_socket_writes_total', 'Socket writes that carried those messages; deliveries / writes = messages per write (what coalescing buys).', () => stats.socketWrites);
  total('herald_recovered_messages_total', 'Missed messages replayed to reconnecting clients.', () => stats.recoveredMessages);
  total('herald_incomplete_recoveries_total', 'Recoveries where part of the gap was older than the history.', () => stats.incompleteRecoveries);
  new Counter({
    name: 'herald_drops_total',
    help: 'Connections dropped by the server, by reason: slow_consumer (4008), rate_limit (1008), too_large (1009).',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(stats.drops)) this.inc({ reason }, n);
    },
  });
  new Counter({
    name: 'herald_refusals_total',
    help: 'Client requests refused with the connection kept, by reason: forbidden_topic (a topic it may not read), forbidden_publish, too_deep (JSON nesting), handler_error (a handler threw), publish_topics (HERALD_CLIENT_PUBLISH_TOPICS), register_rate (HERALD_REGISTER_RATE), overloaded (a connection or registration answered 503 while the node was overloaded: HERALD_OVERLOAD_DELAY, HERALD_MAX_PENDING_CONNECTS).',
    labelNames: ['reason'],
    registers,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(stats.refusals)) this.inc({ reason }, n);
    },
  });
  new Gauge({
    name: 'herald_topics',
    help: 'Topics with at least one subscriber on this node.',
    registers,
    collect() {
      this.set(relay.hub.topicCount);
    },
  });
  // One engine read per scrape feeds the three history gauges (their collects run together).
  type HistoryStats = { topics: number; messages: number; bytes: number } | undefined;
  let inFlight: Promise<HistoryStats> | undefined;
  const readHistory = (): Promise<HistoryStats> => {
    inFlight ??= relay.engine.history.stats().then(
      (h) => h,
      () => undefined,
    ).finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
  for (const what of ['topics', 'messages', 'bytes'] as const) {
    new Gauge({
      name: `herald_history_${what}`,
      help: `${what === 'topics' ? 'Topics' : what === 'messages' ? 'Messages' : 'Bytes of messages'} kept in the engine's history for recovery.`,
      registers,
      async collect() {
        const h = await readHistory();
        if (h) this.set(h[what]);
        else this.reset(); // engine unreachable: herald_engine_up says so
      },
    });
  }
  new Gauge({
    name: 'herald_engine_up',
    help: '1 while the engine (Redis) is reachable, 0 while it is not; the label names the engine.',
    labelNames: ['engine'],
    registers,
    collect() {
      this.set({ engine: relay.engine.name }, relay.engine.healthy() ? 1 : 0);
    },
  });
  new Histogram({
    name: 'herald_publish_write_latency_seconds',
    help: 'Time from a publish to the write of its frames to the sockets (oldest message of each flush).',
    buckets: latencyBuckets,
    registers,
    collect() {
      for (const ms of stats.drainLatencies()) this.observe(ms / 1000);
    },
  });
  new Counter({
    name: 'herald_webhooks_total',
    help: 'Webhook POSTs from this node by result: ok (2xx), status (any other answer: retried), timeout (HERALD_WEBHOOK_TIMEOUT: retried), error (no connection: retried).',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      for (const [result, n] of Object.entries(stats.webhooks.posts)) this.inc({ result }, n);
    },
  });
  new Counter({
    name: 'herald_webhook_events_total',
    help: 'Webhook events by result: delivered (by this node, 2xx), dropped (past HERALD_WEBHOOK_MAX_PENDING, counted by the node that noticed).',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      this.inc({ result: 'delivered' }, stats.webhooks.delivered);
      this.inc({ result: 'dropped' }, stats.webhooks.dropped);
    },
  });
  new Histogram({
    name: 'herald_webhook_delivery_seconds',
    help: 'Time from a webhook event to the 2xx that delivered it (retries and queueing included).',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
    registers,
    collect() {
      for (const ms of stats.webhooks.drainLatencies()) this.observe(ms / 1000);
    },
  });
  return register;
}
