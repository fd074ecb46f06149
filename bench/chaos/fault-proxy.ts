// A TCP proxy on 127.0.0.1 that the chaos run puts in front of something to break the network
// on purpose: `cut()` destroys every connection mid-stream (both halves, whatever was in flight),
// `stall()` keeps every connection open but forwards nothing, in either direction, and accepts new
// connections without connecting them onward: a peer that is there and never answers. `resume()`
// delivers what was held back, in order, as a network that heals would.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface FaultProxy {
  readonly port: number;
  /** Destroys every open connection; returns how many pairs there were. */
  cut(): number;
  stall(): void;
  resume(): void;
  close(): Promise<void>;
}

interface Pair {
  readonly inbound: Socket;
  outbound: Socket | null;
  /** Bytes held back while stalled, per direction. */
  readonly up: Buffer[];
  readonly down: Buffer[];
}

export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  let stalled = false;

  const close = (pair: Pair): void => {
    if (!pairs.delete(pair)) return;
    pair.inbound.destroy();
    pair.outbound?.destroy();
  };

  const open = (pair: Pair): void => {
    const outbound = connect(targetPort, '127.0.0.1');
    pair.outbound = outbound;
    outbound.setNoDelay(true);
    outbound.on('data', (d: Buffer) => {
      if (stalled) pair.down.push(d);
      else pair.inbound.write(d);
    });
    outbound.on('error', () => close(pair)).on('close', () => close(pair));
    flush(pair);
  };

  const flush = (pair: Pair): void => {
    if (pair.outbound === null) return;
    for (const d of pair.up.splice(0)) pair.outbound.write(d);
    for (const d of pair.down.splice(0)) pair.inbound.write(d);
  };

  const server = createServer((inbound) => {
    inbound.setNoDelay(true);
    const pair: Pair = { inbound, outbound: null, up: [], down: [] };
    pairs.add(pair);
    inbound.on('data', (d: Buffer) => {
      if (stalled || pair.outbound === null) pair.up.push(d);
      else pair.outbound.write(d);
    });
    inbound.on('error', () => close(pair)).on('close', () => close(pair));
    if (!stalled) open(pair);
  });
  server.maxConnections = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    cut() {
      const n = pairs.size;
      for (const pair of [...pairs]) close(pair);
      return n;
    },
    stall() {
      stalled = true;
    },
    resume() {
      stalled = false;
      for (const pair of pairs) {
        if (pair.outbound === null) open(pair);
        else flush(pair);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const pair of [...pairs]) close(pair);
        server.close(() => resolve());
      }),
  };
}
