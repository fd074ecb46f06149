import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { HeraldError } from '../errors.js';
import { nestedDeeperThan } from '../protocol/json-safety.js';

/**
 * JSON bodies are read as bytes so invalid UTF-8 is refused instead of silently replaced, and
 * their nesting is measured before parsing: a deep body is a 400, and nothing downstream (schema
 * validation, JSON.stringify of `data`) ever recurses into one.
 */
export function jsonBodyParser(app: FastifyInstance, maxDepth: number): void {
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    const buf = body as Buffer;
    if (!isUtf8(buf)) return done(new HeraldError('invalid_utf8'), undefined);
    if (buf.length === 0) return done(new HeraldError('invalid_json', 'The request body is empty; send a JSON object.'), undefined);
    const text = buf.toString('utf8');
    if (nestedDeeperThan(text, maxDepth)) return done(new HeraldError('too_deep', `The request body nests JSON deeper than ${maxDepth} levels (HERALD_MAX_JSON_DEPTH); flatten it.`), undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new HeraldError('invalid_json', `The request body is not valid JSON: ${(err as Error).message}`), undefined);
    }
  });
}
