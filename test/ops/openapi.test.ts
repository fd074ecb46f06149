// GET /openapi.json describes every route the server has, from the routes' own schemas.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { repoRoot, startHerald, type TestServer } from '../helpers/server.js';

interface OpenApi {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, { summary?: string; requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>>;
}

/** "METHOD /path" for every route in Fastify's printRoutes() tree (HEAD and CORS's OPTIONS left out). */
function routesOf(tree: string): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(\S+)(?: \(([^)]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('').replace(/\/{2,}/g, '/');
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
      if (method !== 'HEAD' && method !== 'OPTIONS') out.push(`${method} ${path}`);
    }
  }
  return out.sort();
}

describe('GET /openapi.json', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startHerald({ apiKey: 'k' });
  });
  after(() => srv.close());

  it('lists every route the server registered, with the schemas it validates with; needs no API key', async () => {
    const res = await fetch(`${srv.base}/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as OpenApi;
    assert.equal(doc.openapi, '3.0.3');
    assert.equal(doc.info.title, 'Herald');
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((op) => `${op.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`))
      .sort();
    const routes = routesOf(srv.herald.app.printRoutes({ commonPrefix: false }));
    assert.ok(routes.length >= 10, `only ${routes.length} routes parsed:\n${srv.herald.app.printRoutes({ commonPrefix: false })}`);
    assert.deepEqual(documented, routes);
    for (const r of ['POST /register', 'POST /publish', 'GET /ws/:id']) assert.ok(routes.includes(r), r);
    // The body schema is the route's own: user_id is required, as POST /register enforces.
    assert.deepEqual(doc.paths['/register']!.post!.requestBody!.content['application/json']!.schema.required, ['user_id']);
    assert.match(doc.paths['/ws/{id}']!.get!.summary ?? '', /WebSocket upgrade/);
  });

  it('the README links it', () => {
    assert.match(readFileSync(`${repoRoot}README.md`, 'utf8'), /\/openapi\.json/);
  });
});
