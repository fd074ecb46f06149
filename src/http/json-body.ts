import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { HeraldError } from '../errors.js';

/** JSON bodies are read as bytes so invalid UTF-8 is refused instead of silently replaced. */
export function jsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    const buf = body as Buffer;
    if (!isUtf8(buf)) return done(new HeraldError('invalid_utf8'), undefined);
    if (buf.length === 0) return done(new HeraldError('invalid_json', 'The request body is empty; send a JSON object.'), undefined);
    try {
      done(null, JSON.parse(buf.toString('utf8')));
    } catch (err) {
      done(new HeraldError('invalid_json', `The request body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });
}
