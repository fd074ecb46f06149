// A small chat: your backend (this file) with Herald embedded under /realtime, and a page
// (index.html) that talks to it with the SDK. Run it with `npm run example:chat` in this repo,
// or, in your own project after `npm install herald`, `node server.js`.
//
// The backend decides who joins: POST /join registers a client for that name and hands the page
// its WebSocket URL. Browsers then publish to chat.* themselves (HERALD_CLIENT_PUBLISH), and the
// backend announces arrivals with herald.publish().
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createHerald } from 'herald';

const herald = await createHerald({ clientPublish: ['chat.*'] });
const page = await readFile(new URL('./index.html', import.meta.url));
// The SDK for browsers, from the package: herald/browser.
const sdk = await readFile(new URL(import.meta.resolve('herald/browser')));

const server = createServer(async (req, res) => {
  if (req.method === 'GET' && req.url === '/') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
  if (req.method === 'GET' && req.url === '/herald.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(sdk);
  if (req.method === 'POST' && req.url === '/join') {
    let body = '';
    for await (const chunk of req) body += chunk;
    const name = String(JSON.parse(body || '{}').name ?? '').trim().slice(0, 32);
    if (!name) return res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"give a name"}');
    // Your app's own login would go here; this example trusts the name.
    const client = await herald.register({ user_id: name, topics: ['chat.lobby'] }, { host: req.headers.host ?? 'localhost' });
    await herald.publish('chat.lobby', { system: true, text: `${name} joined` });
    return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ url: client.url }));
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
