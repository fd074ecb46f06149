// The load generator: a child process (pinned to its own core by run.ts) that registers clients,
// holds their WebSockets as raw TCP readers and publishes over keep-alive HTTP. It obeys one IPC
// command at a time so run.ts can read both processes' CPU around each phase.
//
//   spawned by run.ts as: taskset -c 1 node dist/bench/loadgen.js --host 127.0.0.1 --port P
//   (or --port P1,P2 for the nodes of a cluster: commands then name a node by its index)
import { parseArgs } from 'node:util';
import { openFileLimit } from './proc-stats.js';
import { RawSseSubscriber } from './raw-sse-client.js';
import { RawSubscriber } from './raw-ws-client.js';
import { openConnections, runRequests, type HttpConnection } from './raw-http-client.js';
import { LatencyRecorder } from './latency-recorder.js';
import { StormFleet } from './storm-fleet.js';
import type {
  ConnectCommand,
  ConnectResult,
  DeliveryResult,
  FanoutCommand,
  LoadCommand,
  LoadReply,
  RegisterCommand,
  RegisterResult,
  SteadyCommand,
  UnicastCommand,
} from './loadgen-protocol.js';

const { values } = parseArgs({ options: { host: { type: 'string' }, port: { type: 'string' } } });
const host = values.host ?? '127.0.0.1';
const ports = (values.port ?? '').split(',').map(Number);
const port = ports[0] ?? 0;

let ids: string[] = [];
/** The node (index into ports) each registered client belongs to: it connects there. */
let nodeOf: number[] = [];
let subscribers: Array<RawSubscriber | RawSseSubscriber> = [];
// Counters shared by every subscriber's listener (one call per message, no allocation).
let received = 0;
let onProgress: (() => void) | null = null;
let latency: LatencyRecorder | null = null;
// Sequence numbers seen by each sampled subscriber, to check they all saw one order.
let orders = new Map<number, number[]>();

/** A message is `seq:sendTimeMs:` padded with 'x' to the payload size. */
function makeMessage(seq: number, payloadBytes: number): string {
  const head = `${seq}:${performance.now().toFixed(3)}:`;
  return head.length >= payloadBytes ? head : head + 'x'.repeat(payloadBytes - head.length);
}

function onMessage(subscriber: { readonly tag: number }, payload: Buffer | null): void {
  received++;
  if (payload !== null) {
    const first = payload.indexOf(58); // ':'
    const second = payload.indexOf(58, first + 1);
    const seq = Number(payload.toString('latin1', 0, first));
    const sentAt = Number(payload.toString('latin1', first + 1, second));
    latency?.record(performance.now() - sentAt);
    orders.get(subscriber.tag)?.push(seq);
  }
  if (onProgress !== null) onProgress();
}

async function register(cmd: RegisterCommand): Promise<RegisterResult> {
  const started = performance.now();
  const topics = JSON.stringify(cmd.topics);
  const node = cmd.node ?? 0;
  const connections = await openConnections(host, ports[node] ?? port, cmd.concurrency);
  const fresh: string[] = new Array<string>(cmd.count);
  try {
    await runRequests(
      connections,
      cmd.count,
      (i) => ({ method: 'POST', path: '/register', body: `{"user_id":${ids.length + i},"topics":${topics}}` }),
      (i, res) => {
        if (res.status !== 200) throw new Error(`POST /register answered ${res.status}: ${res.body.toString()}`);
        fresh[i] = (JSON.parse(res.body.toString('utf8')) as { id: string }).id;
      },
    );
  } finally {
    for (const c of connections) c.close();
  }
  ids = ids.concat(fresh);
  nodeOf = nodeOf.concat(new Array<number>(cmd.count).fill(node));
  return { registered: cmd.count, durationMs: performance.now() - started };
}

async function connectAll(cmd: ConnectCommand): Promise<ConnectResult> {
  const started = performance.now();
  let failed = 0;
  let firstError: string | null = null;
  let next = subscribers.length;
  const table = subscribers;
  const lane = async (): Promise<void> => {
    while (next < ids.length) {
      const index = next++;
      try {
        const options = {
          host,
          port: ports[nodeOf[index] ?? 0] ?? port,
          localAddress: `127.0.0.${2 + (index % cmd.sourceAddresses)}`,
          onMessage,
        };
        const sub = cmd.transport === 'sse' ? await RawSseSubscriber.connect({ ...options, path: `/sse/${ids[index] ?? ''}` }) : await RawSubscriber.connect({ ...options, path: `/ws/${ids[index] ?? ''}` });
        sub.tag = index;
        table[index] = sub;
      } catch (err) {
        failed++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: cmd.concurrency }, lane));
  return { connected: table.filter(Boolean).length, failed, firstError, durationMs: performance.now() - started };
}

/** Resolves once `expected` more messages arrived, or when none arrived for idleTimeoutMs. */
function awaitDeliveries(expected: number, idleTimeoutMs: number): { done: Promise<number>; stop: () => void } {
  const target = received + expected;
  let resolveDone: (at: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (resolveDone = resolve));
  let lastCount = received;
  let lastChange = performance.now();
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    onProgress = null;
    clearInterval(timer);
    resolveDone(performance.now());
  };
  onProgress = () => {
    if (received >= target) finish();
  };
  const timer = setInterval(() => {
    const now = performance.now();
    if (received !== lastCount) {
      lastCount = received;
      lastChange = now;
    } else if (now - lastChange > idleTimeoutMs) {
      finish();
    }
  }, 50);
  if (expected === 0) finish();
  return { done, stop: finish };
}

function tally(
  before: number[],
  expectedFor: (index: number) => number,
  publishes: number,
  httpErrors: number,
  durationMs: number,
): DeliveryResult {
  let expected = 0;
  let delivered = 0;
  let lost = 0;
  let unexpected = 0;
  let closedSockets = 0;
  subscribers.forEach((sub, i) => {
    const want = expectedFor(i);
    const got = sub.messages - (before[i] ?? 0);
    expected += want;
    delivered += got;
    if (got < want) lost += want - got;
    if (got > want) unexpected += got - want;
    if (sub.closed) closedSockets++;
  });
  const summary = latency?.summary() ?? null;
  return { publishes, expected, delivered, lost, unexpected, orderMismatches: orderMismatches(), closedSockets, httpErrors, durationMs, latency: summary };
}

/** Sampled subscribers whose sequence of messages differs from the first sampled one's. */
function orderMismatches(): number {
  let reference: number[] | null = null;
  let mismatches = 0;
  for (const seen of orders.values()) {
    if (reference === null) {
      reference = seen;
      continue;
    }
    const n = Math.min(reference.length, seen.length);
    for (let i = 0; i < n; i++) {
      if (seen[i] !== reference[i]) {
        mismatches++;
        break;
      }
    }
  }
  return mismatches;
}

function startDelivery(sampleEvery: number): number[] {
  orders = new Map();
  latency = sampleEvery > 0 ? new LatencyRecorder() : null;
  subscribers.forEach((sub, i) => {
    sub.capture = sampleEvery > 0 && i % sampleEvery === 0;
    if (sub.capture) orders.set(sub.tag, []);
  });
  return subscribers.map((s) => s.messages);
}

/** `count` keep-alive connections, to the first server or spread round-robin over every node. */
async function publishConnections(count: number, spread: boolean): Promise<HttpConnection[]> {
  if (!spread || ports.length === 1) return openConnections(host, port, count);
  const perNode = ports.map((_p, i) => Math.floor(count / ports.length) + (i < count % ports.length ? 1 : 0));
  const groups = await Promise.all(ports.map((p, i) => openConnections(host, p, perNode[i] ?? 0)));
  // Interleaved, so requests alternate between the nodes from the first one on.
  const out: HttpConnection[] = [];
  for (let i = 0; out.length < count; i++) for (const g of groups) if (g[i] !== undefined) out.push(g[i]!);
  return out;
}

/**
 * Runs `send` (the publishes) over `connections`, closes them, then waits for the deliveries.
 * Returns the window from `started` (default: now) to the last delivery.
 */
async function drive(connections: HttpConnection[], wait: ReturnType<typeof awaitDeliveries>, send: () => Promise<unknown>, started = performance.now()): Promise<number> {
  try {
    await send();
  } catch (err) {
    wait.stop();
    throw err;
  } finally {
    for (const c of connections) c.close();
  }
  return (await wait.done) - started;
}

async function fanout(cmd: FanoutCommand): Promise<DeliveryResult> {
  const before = startDelivery(cmd.sampleEvery);
  const connections = await publishConnections(cmd.concurrency, cmd.spread ?? false);
  const wait = awaitDeliveries(cmd.publishes * subscribers.length, cmd.idleTimeoutMs);
  let httpErrors = 0;
  const windowMs = await drive(connections, wait, () =>
    runRequests(
      connections,
      cmd.publishes,
      (i) => ({ method: 'POST', path: '/publish', body: `{"topic":"${cmd.topic}","message":"${makeMessage(i + 1, cmd.payloadBytes)}"}` }),
      (_i, res) => {
        if (res.status !== 200) httpErrors++;
      },
    ),
  );
  return tally(before, () => cmd.publishes, cmd.publishes, httpErrors, windowMs);
}

async function unicast(cmd: UnicastCommand): Promise<DeliveryResult> {
  const before = startDelivery(0);
  const targets = new Int32Array(subscribers.length);
  const connections = await openConnections(host, port, cmd.concurrency);
  const wait = awaitDeliveries(cmd.publishes, cmd.idleTimeoutMs);
  const requests = Math.ceil(cmd.publishes / cmd.batchSize);
  let httpErrors = 0;
  const item = (seq: number): string => {
    const user = Math.floor(Math.random() * subscribers.length);
    targets[user] = (targets[user] ?? 0) + 1;
    return `{"topic":"${cmd.topic}","user_id":${user},"message":"${makeMessage(seq, cmd.payloadBytes)}"}`;
  };
  const windowMs = await drive(connections, wait, () =>
    runRequests(
      connections,
      requests,
      (r) => {
        if (cmd.batchSize === 1) return { method: 'POST', path: '/publish', body: item(r + 1) };
        const first = r * cmd.batchSize;
        const items: string[] = [];
        for (let seq = first; seq < Math.min(first + cmd.batchSize, cmd.publishes); seq++) items.push(item(seq + 1));
        return { method: 'POST', path: '/publish/batch', body: `{"messages":[${items.join(',')}]}` };
      },
      (_r, res) => {
        // A batch answers 200 with per-item results; an item that failed carries "error".
        if (res.status !== 200 || (cmd.batchSize > 1 && res.body.includes('"error"'))) httpErrors++;
      },
    ),
  );
  return tally(before, (i) => targets[i] ?? 0, cmd.publishes, httpErrors, windowMs);
}

async function steady(cmd: SteadyCommand): Promise<DeliveryResult> {
  const before = startDelivery(1);
  const publishes = Math.max(1, Math.round((cmd.ratePerSecond * cmd.durationMs) / 1000));
  const connections = await openConnections(host, port, 4);
  const idle: HttpConnection[] = [...connections];
  const waiting: Array<(c: HttpConnection) => void> = [];
  const wait = awaitDeliveries(publishes * subscribers.length, cmd.idleTimeoutMs);
  const interval = 1000 / cmd.ratePerSecond;
  let httpErrors = 0;
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  const windowMs = await drive(connections, wait, async () => {
    for (let i = 0; i < publishes; i++) {
      const due = started + i * interval;
      const delay = due - performance.now();
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      const connection = idle.pop() ?? (await new Promise<HttpConnection>((r) => waiting.push(r)));
      const body = `{"topic":"${cmd.topic}","message":"${makeMessage(i + 1, cmd.payloadBytes)}"}`;
      inFlight.push(
        connection.request({ method: 'POST', path: '/publish', body }).then((res) => {
          if (res.status !== 200) httpErrors++;
          const waiter = waiting.shift();
          if (waiter !== undefined) waiter(connection);
          else idle.push(connection);
        }),
      );
    }
    await Promise.all(inFlight);
  }, started);
  return tally(before, () => publishes, publishes, httpErrors, windowMs);
}

// The reconnect-storm scenario's clients (bench/storm.ts), made on its first command.
let fleet: StormFleet | null = null;

async function handle(cmd: LoadCommand): Promise<LoadReply> {
  switch (cmd.type) {
    case 'storm-setup':
    case 'storm-publish':
    case 'storm-ready':
    case 'storm-arm':
    case 'storm-await':
    case 'storm-settle':
      fleet ??= new StormFleet(host, port);
      return { type: 'storm', result: await fleet.handle(cmd) };
    case 'register':
      return { type: 'register', result: await register(cmd) };
    case 'connect':
      return { type: 'connect', result: await connectAll(cmd) };
    case 'fanout':
      return { type: 'delivery', result: await fanout(cmd) };
    case 'unicast':
      return { type: 'delivery', result: await unicast(cmd) };
    case 'steady':
      return { type: 'delivery', result: await steady(cmd) };
    case 'close':
      fleet?.close();
      fleet = null;
      for (const sub of subscribers) sub.destroy();
      subscribers = [];
      ids = [];
      nodeOf = [];
      return { type: 'closed' };
  }
}

function send(reply: LoadReply): void {
  process.send?.(reply);
}

if (process.send === undefined) {
  process.stderr.write('loadgen.js is started by bench/run.js over IPC; run `npm run bench` instead.\n');
  process.exit(2);
}
process.on('message', (cmd: LoadCommand) => {
  handle(cmd).then(send, (err: unknown) => send({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
});
// If run.ts dies, do not linger holding thousands of sockets.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready', openFileLimit: openFileLimit() });
