// The baseline: the tutorial's design of the same HTTP + WebSocket API, written naively on purpose
// (one Map of clients, every publish scans them all and calls ws.send per matching client).
// Herald's benchmark reports itself as ratios against this, measured in the same run.
//
//   node dist/bench/baseline-server.js --port 8001 [--host 127.0.0.1]
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';

interface Client {
  userId: number | string;
  topics: string[];
  socket: WebSocket | null;
}

interface PublishBody {
  topic: string;
  user_id?: number | string;
  message: string;
}

const clients = new Map<string, Client>();
let offset = 0;

function reply(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    req.on('error', reject);
  });
}

function isPublish(value: unknown): value is PublishBody {
  if (typeof value !== 'object' || value === null) return false;
  const body = value as Record<string, unknown>;
  return typeof body['topic'] === 'string' && typeof body['message'] === 'string';
}

// The tutorial's publish: scan every client, filter by user and topic, send to each.
function publish(body: PublishBody): { id: string; offset: number } {
  for (const client of clients.values()) {
    if (body.user_id !== undefined && client.userId !== body.user_id) continue;
    if (!client.topics.includes(body.topic)) continue;
    client.socket?.send(body.message);
  }
  offset++;
  return { id: String(offset), offset };
}

async function route(req: IncomingMessage, res: ServerResponse, host: string): Promise<void> {
  const url = req.url ?? '/';
  if (req.method === 'GET' && url === '/health') return reply(res, 200, { status: 'ok', mode: 'baseline' });
  if (req.method === 'POST' && url === '/register') {
    const body = (await readJson(req)) as { user_id?: number | string; topics?: string[] };
    if (body.user_id === undefined) return reply(res, 400, { error: 'bad_request', message: 'user_id is required' });
    const id = randomBytes(16).toString('hex');
    const topics = Array.isArray(body.topics) ? body.topics : ['cats'];
    clients.set(id, { userId: body.user_id, topics, socket: null });
    return reply(res, 200, { url: `ws://${req.headers.host ?? host}/ws/${id}`, id, topics });
  }
  if (req.method === 'DELETE' && url.startsWith('/register/')) {
    const id = url.slice('/register/'.length);
    const client = clients.get(id);
    if (client === undefined) return reply(res, 404, { error: 'not_found', message: 'unknown client id' });
    clients.delete(id);
    client.socket?.close(4001);
    return reply(res, 200, {});
  }
  if (req.method === 'POST' && url === '/publish') {
    const body = await readJson(req);
    if (!isPublish(body)) return reply(res, 400, { error: 'bad_request', message: 'topic and message are required' });
    return reply(res, 200, publish(body));
  }
  if (req.method === 'POST' && url === '/publish/batch') {
    const body = (await readJson(req)) as { messages?: unknown[] };
    const results = (body.messages ?? []).map((item) =>
      isPublish(item) ? publish(item) : { error: 'bad_request' },
    );
    return reply(res, 200, { results });
  }
  reply(res, 404, { error: 'not_found', message: `no route ${req.method ?? ''} ${url}` });
}

export function startBaseline(port: number, host: string): Promise<ReturnType<typeof createServer>> {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
  const server = createServer((req, res) => {
    route(req, res, `${host}:${port}`).catch(() => reply(res, 400, { error: 'bad_request', message: 'invalid JSON' }));
  });
  server.keepAliveTimeout = 120_000;
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    const id = (req.url ?? '').slice('/ws/'.length);
    const client = clients.get(id);
    if (!(req.url ?? '').startsWith('/ws/') || client === undefined) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      client.socket?.close(4000);
      client.socket = ws;
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        const text = data.toString();
        if (text === 'ping' || text === 'ping\n') return;
        try {
          const parsed = JSON.parse(text) as { topics?: unknown };
          if (Array.isArray(parsed.topics)) client.topics = parsed.topics.filter((t): t is string => typeof t === 'string');
        } catch {
          // The tutorial logs and ignores anything it cannot parse.
        }
      });
      ws.on('close', () => {
        if (client.socket === ws) client.socket = null;
      });
      ws.on('error', () => ws.terminate());
    });
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '8001' }, host: { type: 'string', default: '127.0.0.1' } },
  });
  const port = Number(values.port);
  const host = values.host ?? '127.0.0.1';
  const server = await startBaseline(port, host);
  const address = server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  process.stdout.write(`${JSON.stringify({ msg: 'baseline listening', host, port: bound })}\n`);
  const stop = (): void => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
