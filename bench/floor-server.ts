// What one POST /publish costs before Herald does anything: a server that parses the JSON body
// and answers {"id","offset"} without publishing anything, written on bare node:http, or on
// Fastify with Herald's own publish schema and JSON parser. bench/http-floor.ts measures these
// next to Herald, so Herald's per-publish figure can be read against Node's own floor.
//
//   node dist/bench/floor-server.js --kind node|fastify --port 8001
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { defaults } from '../src/config.js';
import { jsonBodyParser } from '../src/http/json-body.js';
import { publishItemSchema } from '../src/http/schemas.js';

const { values } = parseArgs({ options: { kind: { type: 'string' }, port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } } });
const port = Number(values.port);
const answer = '{"id":"floor","offset":1}';

if (values.kind === 'node') {
  createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST') JSON.parse(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length });
      res.end(answer);
    });
  }).listen(port, values.host);
} else if (values.kind === 'fastify') {
  const app = Fastify({ logger: false });
  jsonBodyParser(app, defaults.maxJsonDepth);
  const okSchema = { type: 'object', properties: { id: { type: 'string' }, offset: { type: 'integer' } } } as const;
  app.get('/health', async () => ({ status: 'ok' }));
  app.post('/publish', { schema: { body: publishItemSchema(defaults), response: { 200: okSchema } } }, async () => ({ id: 'floor', offset: 1 }));
  await app.listen({ port, host: values.host });
} else {
  console.error('--kind must be node or fastify');
  process.exit(2);
}
