import type { onRequestHookHandler } from 'fastify';
import type { Admission } from '../core/admission.js';
import type { Relay } from '../core/relay.js';
import { HeraldError } from '../errors.js';

/**
 * A route hook: 503 overloaded with Retry-After, before the body is read or anything is
 * looked up, while the node is behind on its work (core/admission.ts). On POST /register (a
 * storm of page loads registers before it connects) and the SSE endpoints; WebSocket upgrades
 * check the same in ws.ts.
 */
export function overloadCheck(admission: Admission, relay: Relay): onRequestHookHandler {
  return (_request, reply, done) => {
    const wait = admission.refusal();
    if (wait === undefined) return done();
    relay.stats.refused('overloaded');
    void reply.header('retry-after', wait);
    done(new HeraldError('overloaded'));
  };
}
