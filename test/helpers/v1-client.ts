// herald.v1 over a TestSocket: open (the welcome taken) and one request answered by its id.
import { TestSocket } from './ws-client.js';

export type J = Record<string, unknown>;

/** Opens a herald.v1 socket and takes its welcome. */
export async function openV1(url: string): Promise<{ s: TestSocket; welcome: J }> {
  const s = await TestSocket.open(url, 'herald.v1');
  const [welcome] = await s.takeJson<J>(1);
  return { s, welcome: welcome! };
}

/** Sends a request and resolves with its reply (frames before it are skipped). */
export async function request(s: TestSocket, body: J): Promise<J> {
  s.send(body);
  return s.waitJson<J>((o) => o.id === body.id);
}
