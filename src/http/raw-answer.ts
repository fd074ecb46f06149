// An error answered on a bare socket, outside Fastify: WebSocket upgrades (handled on the
// server's 'upgrade' event) and requests Node's HTTP parser refused. Same JSON as every other
// error ({error, message}, the catalog's status); the connection closes after it.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HeraldError } from '../errors.js';

export function answerRaw(socket: Duplex, err: HeraldError, headers: Readonly<Record<string, string | number>> = {}): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(err.toJSON());
  let head = `HTTP/1.1 ${err.status} ${STATUS_CODES[err.status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  // Destroyed once written: a peer that never reads nor closes must not keep the socket.
  socket.once('finish', () => socket.destroy());
  socket.end(`${head}\r\n${body}`);
}
