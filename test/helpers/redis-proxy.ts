// A TCP proxy in front of Redis that can silently drop the traffic of the connections that
// subscribed (a pub/sub connection gone deaf while commands still work), to test that Herald
// notices a subscription that stopped delivering.
import { connect, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

export interface RedisProxy {
  readonly port: number;
  readonly url: string;
  /** From now on, drops every byte of the connections that sent SUBSCRIBE; returns how many. New connections pass. */
  deafenSubscribers(): number;
  close(): Promise<void>;
}

export async function startRedisProxy(target: number): Promise<RedisProxy> {
  const pairs = new Set<{ inbound: Socket; outbound: Socket; subscriber: boolean; deaf: boolean }>();
  const server = createServer((inbound) => {
    const outbound = connect(target, '127.0.0.1');
    const pair = { inbound, outbound, subscriber: false, deaf: false };
    pairs.add(pair);
    inbound.on('data', (d: Buffer) => {
      if (!pair.subscriber && /subscribe/i.test(d.toString('latin1'))) pair.subscriber = true;
      if (!pair.deaf) outbound.write(d);
    });
    outbound.on('data', (d: Buffer) => {
      if (!pair.deaf) inbound.write(d);
    });
    const down = (): void => {
      pairs.delete(pair);
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', down).on('close', down);
    outbound.on('error', down).on('close', down);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    deafenSubscribers() {
      let n = 0;
      for (const p of pairs) {
        if (!p.subscriber || p.deaf) continue;
        p.deaf = true;
        n++;
      }
      return n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const p of [...pairs]) {
          p.inbound.destroy();
          p.outbound.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
