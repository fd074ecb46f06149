// A TCP proxy between a client and Herald, so a test can cut the network under a client
// (destroy both halves mid-stream) or point it at a restarted server on another port.
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Where new connections go. */
  target: number;
  /** Connections that went through so far. */
  connections: number;
  /** Destroys every open connection, both halves, with whatever was still in flight. */
  cut(): number;
  close(): Promise<void>;
}

export async function startProxy(target: number): Promise<TcpProxy> {
  const open = new Set<Socket>();
  const track = (s: Socket): void => {
    open.add(s);
    s.once('close', () => open.delete(s));
  };
  const proxy: TcpProxy = {
    port: 0,
    target,
    connections: 0,
    cut: () => {
      const n = open.size;
      for (const s of [...open]) s.destroy();
      return n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        proxy.cut();
        server.close(() => resolve());
      }),
  };
  const server = createServer((inbound) => {
    proxy.connections++;
    const outbound = connect(proxy.target, '127.0.0.1');
    track(inbound);
    track(outbound);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    // Either half failing takes the other down, as a real network cut would.
    const down = (): void => {
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', down).on('close', down);
    outbound.on('error', down).on('close', down);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as AddressInfo).port;
  return proxy;
}

/** The registration URL with its port swapped for the proxy's. */
export function viaProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.port = String(proxy.port);
  return u.toString();
}
