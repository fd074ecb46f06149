// A scripted herald.v1 server for the client's protocol tests: each test decides what the
// "server" answers, which the real server cannot be made to do on cue (a batched frame, a
// missing reply, a close code at a chosen moment).
import { once } from 'node:events';
import { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import type { WebSocket } from 'ws';

export interface FakeConnection {
  socket: WebSocket;
  /** The upgrade request's path and query (e.g. /ws/c1?since=...). */
  url: string;
  /** Requests the client sent, parsed. */
  requests: Array<Record<string, unknown>>;
  send(...frames: object[]): void;
  nextRequest(type?: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export interface FakeServer {
  url: string;
  connections: FakeConnection[];
  nextConnection(timeoutMs?: number): Promise<FakeConnection>;
  close(): Promise<void>;
}

export function welcome(topics: string[] = []): object {
  return { type: 'welcome', client: 'c1', user: 7, topics, heartbeat_ms: 25_000 };
}

export async function startFakeServer(): Promise<FakeServer> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: (offered) => (offered.has('herald.v1') ? 'herald.v1' : false) });
  await once(wss, 'listening');
  const connections: FakeConnection[] = [];
  const waiters: Array<(c: FakeConnection) => void> = [];
  wss.on('connection', (socket, request) => {
    const requests: Array<Record<string, unknown>> = [];
    const requestWaiters: Array<{ type?: string; resolve: (r: Record<string, unknown>) => void }> = [];
    let consumed = 0;
    const connection: FakeConnection = {
      socket,
      url: request.url ?? '',
      requests,
      send: (...frames) => socket.send(frames.map((f) => JSON.stringify(f)).join('\n')),
      nextRequest: (type, timeoutMs = 2000) =>
        new Promise((resolve, reject) => {
          // Requests are consumed in order, so a test reads them one by one.
          const pending = requests.slice(consumed).findIndex((r) => !type || r.type === type);
          if (pending >= 0) {
            consumed += pending + 1;
            resolve(requests[consumed - 1] as Record<string, unknown>);
            return;
          }
          const timer = setTimeout(() => reject(new Error(`no ${type ?? 'request'} within ${timeoutMs} ms`)), timeoutMs);
          requestWaiters.push({
            type,
            resolve: (r) => {
              clearTimeout(timer);
              resolve(r);
            },
          });
        }),
    };
    socket.on('message', (raw) => {
      const request = JSON.parse(String(raw)) as Record<string, unknown>;
      requests.push(request);
      const i = requestWaiters.findIndex((w) => !w.type || w.type === request.type);
      if (i >= 0) {
        consumed = requests.length;
        requestWaiters.splice(i, 1)[0]?.resolve(request);
      }
    });
    connections.push(connection);
    waiters.shift()?.(connection);
  });
  const { port } = wss.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/ws/c1`,
    connections,
    nextConnection: (timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const waiter = (c: FakeConnection): void => {
          clearTimeout(timer);
          resolve(c);
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`no connection within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(waiter);
      }),
    close: async () => {
      for (const c of connections) c.socket.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
