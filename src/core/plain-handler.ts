import type { RawData } from 'ws';
import { decodePlain } from '../protocol/plain.js';
import type { Relay } from './relay.js';
import type { Session } from './session.js';

/**
 * The tutorial's client messages: `ping` is ignored, {"topics": [...]} replaces the list.
 * Nothing is ever answered; bad or forbidden requests are logged and ignored, the connection stays up.
 */
export function handlePlain(relay: Relay, s: Session, data: RawData, isBinary: boolean): void {
  if (isBinary) return;
  const req = decodePlain(data.toString());
  if (req.type === 'ping') return;
  if (req.type === 'ignored') {
    relay.log.debug({ client: s.id, reason: req.reason }, 'ignored a plain client message');
    return;
  }
  const check = relay.checkTopics(req.topics);
  if (!check.ok) {
    relay.log.info({ client: s.id, code: check.code }, 'ignored a topics update: %s', check.message);
    return;
  }
  relay
    .serialize(s, async () => {
      // Checked in turn with the session's other changes: a rights change queued before this
      // update must apply first. A topic it may not read: the whole update is ignored.
      if (s.rights.firstForbidden(check.topics) !== undefined) {
        relay.stats.refused('forbidden_topic');
        relay.log.info({ user: s.userKey }, 'ignored a topics update naming a topic the client may not read');
        return;
      }
      await relay.setTopics(s, check.topics);
    })
    .catch((err: unknown) => {
      relay.log.warn({ err, client: s.id }, 'topics update failed');
    });
}
