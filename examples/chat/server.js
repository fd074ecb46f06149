// A small chat: your backend (this file) with Herald embedded under /realtime, and a page
// (index.html) that talks to it with the SDK. Run it with `npm run example:chat` in this repo,
// or, in your own project after `npm install herald jose`, `node server.js`.
//
// The backend decides who may connect: POST /token signs a connection token (a JWT, with jose)
// for that name, and the SDK asks for a fresh one before each connection and before expiry.
// Browsers then publish to chat.* themselves (clientPublish), and the backend announces
// arrivals with herald.publish().
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { SignJWT } from 'jose';
import { createHerald } from 'herald';

// Shared by this backend (signing) and Herald (verifying); at least 32 characters.
const secret = process.env.HERALD_TOKEN_SECRET ?? randomBytes(32).toString('hex');
const herald = await createHerald({ clientPublish: ['chat.*'], tokenSecret: secret });
const page = await readFile(new URL('./index.html', import.meta.url));
// The SDK for browsers, from the package: herald/browser.
const sdk = await readFile(new URL(import.meta.resolve('herald/browser')));
const joined = new Set();

const server = createServer(async (req, res) => {
  if (req.method === 'GET' && req.url === '/') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  if (req.method === 'GET' && req.url === '/herald.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk);
  if (req.method === 'POST' && req.url === '/token') {
    let body = '';
    for await (const chunk of req) body += chunk;
    const name = String(JSON.parse(body || '{}').name ?? '').trim().slice(0, 32);
    if (!name) return res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"give a name"}');
    // Your app's own login would go here; this example trusts the name.
    const token = await new SignJWT({ topics: ['chat.lobby'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(name)
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(secret));
    if (!joined.has(name)) {
      joined.add(name);
      await herald.publish('chat.lobby', { system: true, text: `${name} joined` });
    }
    return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
  }
  res.writeHead(404).end('not found');
});
herald.attach(server, { prefix: '/realtime' });

server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address();
  console.log(`chat on http://${address}:${port}/ (open it in two windows)`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
