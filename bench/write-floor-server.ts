// The writing side of bench/write-floor.ts: a bare net server (no HTTP, no WebSocket framing)
// that accepts connections and, told over its IPC channel, writes small messages to them one
// socket.write each, or answers every request it reads with one small write. What it costs is
// the floor under every Herald delivery and every HTTP answer on this machine.
//
//   started by write-floor.js: node dist/bench/write-floor-server.js --port P
import { createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

export type WriterCommand =
  /** `writes` messages of `bytes` each, to a random accepted socket each, `perTurn` per event-loop turn. */
  | { type: 'spread'; writes: number; bytes: number; perTurn: number }
  /** From now on answer every chunk read with one write of `bytes`, or stop answering (0). */
  | { type: 'echo'; bytes: number }
  /** How many connections were accepted so far. */
  | { type: 'count' };

export type WriterReply = { type: 'ready'; port: number } | { type: 'accepted'; sockets: number } | { type: 'done' };

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } } });

const sockets: Socket[] = [];
let echoBytes = 0;
const send = (reply: WriterReply): void => {
  process.send?.(reply);
};

const server = createServer({ noDelay: true }, (socket) => {
  sockets.push(socket);
  socket.on('data', () => {
    // A fresh buffer per answer, as a server frames each answer anew.
    if (echoBytes > 0) socket.write(Buffer.alloc(echoBytes, 0x61));
  });
  socket.on('error', () => socket.destroy());
});

/** Writes `left` messages in turns of `perTurn`, letting the event loop run between turns (as a flush does). */
function spread(left: number, bytes: number, perTurn: number): void {
  const n = Math.min(left, perTurn);
  for (let i = 0; i < n; i++) {
    const s = sockets[Math.floor(Math.random() * sockets.length)]!;
    s.write(Buffer.alloc(bytes, 0x62));
  }
  if (left > n) setImmediate(spread, left - n, bytes, perTurn);
  else setImmediate(() => send({ type: 'done' }));
}

process.on('message', (cmd: WriterCommand) => {
  if (cmd.type === 'spread') spread(cmd.writes, cmd.bytes, cmd.perTurn);
  else if (cmd.type === 'echo') echoBytes = cmd.bytes;
  else send({ type: 'accepted', sockets: sockets.length });
});
process.on('disconnect', () => process.exit(0));

server.listen(Number(values.port), values.host, () => {
  const address = server.address();
  send({ type: 'ready', port: typeof address === 'object' && address !== null ? address.port : 0 });
});
