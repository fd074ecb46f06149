import type { FastifyError, FastifyInstance } from 'fastify';
import { HeraldError } from '../errors.js';

/** Every error becomes {error, message} with the catalog's status. */
export function errorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HeraldError, request, reply) => {
    const e = toHeraldError(err);
    // The path may hold a registration id and the query string a token or key: neither is logged.
    const url = redactUrl(request.url);
    if (e.status >= 500) request.log.error({ err, url }, 'request failed');
    else request.log.debug({ code: e.code, url }, e.message);
    void reply.code(e.status).send(e.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(new HeraldError('not_found', `No route ${request.method} ${request.url.split('?')[0]}; see the README for the API.`).toJSON());
  });
}

export function toHeraldError(err: FastifyError | HeraldError): HeraldError {
  if (err instanceof HeraldError) return err;
  if (err.validation) return new HeraldError('invalid_body', `Invalid request: ${err.message}.`);
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HeraldError('body_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HeraldError('unsupported_media_type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HeraldError('invalid_json', 'The request body is empty; send a JSON object.');
  }
  if (err.statusCode === 413) return new HeraldError('body_too_large');
  if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) return new HeraldError('bad_request', err.message);
  return new HeraldError('internal');
}

/** A client's URL without its credential: /ws/ID and /sse/ID name a registration, `token=` a token, `last_event_id` its positions. */
export function redactUrl(url: string): string {
  return url.replace(/^\/(ws|sse)\/[^/?#]+/, '/$1/[id]').replace(/([?&](?:token|key|last_event_id)=)[^&#]*/g, '$1[redacted]');
}
