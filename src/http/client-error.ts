import type { Socket } from 'node:net';
import { HeraldError } from '../errors.js';
import { answerRaw } from './raw-answer.js';

/**
 * Errors Node's HTTP parser meets before Fastify sees a request (a body not received within
 * HERALD_REQUEST_TIMEOUT, headers too large, bytes that are not HTTP): answered in the error
 * catalog's JSON, like every other error, then the connection is closed.
 */
export function clientErrorHandler(timeoutMs: number): (err: Error & { code?: string }, socket: Socket) => void {
  return (err, socket) => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const e =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new HeraldError('request_timeout', `The whole request was not received within ${timeoutMs / 1000} s (HERALD_REQUEST_TIMEOUT); send it at once.`)
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? new HeraldError('headers_too_large')
          : new HeraldError('bad_request', 'The request is not valid HTTP/1.1.');
    answerRaw(socket, e);
  };
}
