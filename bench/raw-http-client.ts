// A minimal keep-alive HTTP/1.1 client over net.Socket: one request in flight per connection,
// responses framed by Content-Length. Several times cheaper than node:http's client, which keeps
// the load generator's CPU for the subscribers.
import { connect, type Socket } from 'node:net';

const HEADER_END = Buffer.from('\r\n\r\n');

export interface HttpResponse {
  readonly status: number;
  readonly body: Buffer;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  readonly body?: string;
}

type Pending = { resolve: (res: HttpResponse) => void; reject: (err: Error) => void };

export class HttpConnection {
  readonly #socket: Socket;
  readonly #host: string;
  #buffer: Buffer | null = null;
  #pending: Pending | null = null;
  #closed = false;

  private constructor(socket: Socket, host: string) {
    this.#socket = socket;
    this.#host = host;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err: Error) => this.#failPending(err));
    socket.on('close', () => {
      this.#closed = true;
      this.#failPending(new Error('connection closed by the server'));
    });
  }

  static open(host: string, port: number, localAddress?: string): Promise<HttpConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, localAddress });
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new HttpConnection(socket, `${host}:${port}`));
      });
    });
  }

  request(req: HttpRequest): Promise<HttpResponse> {
    if (this.#closed) return Promise.reject(new Error('connection closed'));
    if (this.#pending !== null) return Promise.reject(new Error('one request at a time per connection'));
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      const body = req.body ?? '';
      const length = Buffer.byteLength(body);
      const head =
        `${req.method} ${req.path} HTTP/1.1\r\nHost: ${this.#host}\r\n` +
        (length > 0 || req.method === 'POST' ? `Content-Type: application/json\r\nContent-Length: ${length}\r\n` : '') +
        '\r\n';
      this.#socket.write(head + body);
    });
  }

  close(): void {
    this.#closed = true;
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer === null ? chunk : Buffer.concat([this.#buffer, chunk]);
    const buf = this.#buffer;
    const end = buf.indexOf(HEADER_END);
    if (end < 0) return;
    const head = buf.toString('latin1', 0, end);
    const status = Number(head.slice(9, 12));
    const lengthMatch = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (lengthMatch === null) {
      this.#failPending(new Error(`response without Content-Length: ${head.split('\r\n')[0] ?? ''}`));
      this.close();
      return;
    }
    const bodyStart = end + 4;
    const bodyEnd = bodyStart + Number(lengthMatch[1]);
    if (buf.length < bodyEnd) return;
    this.#buffer = bodyEnd < buf.length ? buf.subarray(bodyEnd) : null;
    const pending = this.#pending;
    this.#pending = null;
    pending?.resolve({ status, body: buf.subarray(bodyStart, bodyEnd) });
  }

  #failPending(err: Error): void {
    const pending = this.#pending;
    this.#pending = null;
    pending?.reject(err);
  }
}

/**
 * Sends `count` requests over `connections`, one in flight on each (so connections.length in
 * flight in all), and calls `onResponse` for every answer. Rejects on the first failure.
 */
export async function runRequests(
  connections: readonly HttpConnection[],
  count: number,
  makeRequest: (index: number) => HttpRequest,
  onResponse: (index: number, response: HttpResponse) => void,
): Promise<void> {
  let next = 0;
  const lane = async (connection: HttpConnection): Promise<void> => {
    while (next < count) {
      const index = next++;
      const response = await connection.request(makeRequest(index));
      onResponse(index, response);
    }
  };
  await Promise.all(connections.map(lane));
}

/** Opens `count` keep-alive connections. */
export function openConnections(host: string, port: number, count: number): Promise<HttpConnection[]> {
  return Promise.all(Array.from({ length: count }, () => HttpConnection.open(host, port)));
}
