import type { RawData } from 'ws';
import { HeraldError } from '../errors.js';
import { decodeV1, encodeError, encodeOk, encodePong, type RequestId, type V1Request } from '../protocol/v1.js';
import type { Relay } from './relay.js';
import type { Session } from './session.js';
import { PublishTopics } from './publish-topics.js';
import { topicMatcher } from './topic-pattern.js';

/** herald.v1 requests: each gets exactly one reply (ok, pong or error); the socket stays up. */
export class V1Handler {
  readonly #relay: Relay;
  readonly #mayPublish: (topic: string) => boolean;
  readonly #publishTopics: PublishTopics;

  constructor(relay: Relay) {
    this.#relay = relay;
    this.#mayPublish = topicMatcher(relay.config.clientPublish);
    this.#publishTopics = new PublishTopics(relay.config.clientPublishTopics);
  }

  handle(s: Session, data: RawData, isBinary: boolean): void {
    if (isBinary) {
      s.reply(encodeError(undefined, 'bad_request', 'herald.v1 requests are JSON text frames, not binary'));
      return;
    }
    const decoded = decodeV1(data.toString(), this.#relay.config.maxJsonDepth);
    if (!decoded.ok) {
      const e = decoded.error;
      if (e.code === 'too_deep') this.#relay.stats.refused('too_deep');
      s.reply(encodeError(e.id, e.code, e.message));
      return;
    }
    const req = decoded.request;
    if (req.type === 'ping') {
      s.reply(encodePong(req.id));
      return;
    }
    this.#relay
      .serialize(s, () => this.#run(s, req))
      .then((extra) => s.reply(encodeOk(req.id, extra)))
      .catch((err: unknown) => this.#fail(s, req.id, err));
  }

  async #run(s: Session, req: Exclude<V1Request, { type: 'ping' }>): Promise<Record<string, unknown> | undefined> {
    const relay = this.#relay;
    if (req.type === 'publish') return this.#publish(s, req.topic, req.data);
    const check = relay.checkTopics(req.topics);
    if (!check.ok) throw new HeraldError(check.code, check.message);
    switch (req.type) {
      case 'subscribe':
        if (!relay.fitsTopicLimit(s, check.topics)) throw new HeraldError('too_many_topics', `at most ${relay.config.maxTopics} topics per client`);
        await relay.subscribe(s, check.topics, req.since, true);
        return undefined;
      case 'unsubscribe':
        await relay.unsubscribe(s, check.topics);
        return undefined;
      case 'topics':
        await relay.setTopics(s, check.topics);
        return undefined;
    }
  }

  async #publish(s: Session, topic: string, data: unknown): Promise<Record<string, unknown>> {
    const relay = this.#relay;
    const check = relay.checkTopics([topic]);
    if (!check.ok) throw new HeraldError(check.code, check.message);
    if (!this.#mayPublish(topic)) throw new HeraldError('forbidden', `clients may not publish to "${topic}" (allowed by HERALD_CLIENT_PUBLISH: ${relay.config.clientPublish.join(', ') || 'none'})`);
    if (!this.#publishTopics.admit(s.id, topic)) {
      relay.stats.refused('publish_topics');
      throw new HeraldError('too_many_publish_topics', `this client published to ${relay.config.clientPublishTopics} different topics in the last minute (HERALD_CLIENT_PUBLISH_TOPICS); publish to those, or wait for the next minute`);
    }
    const m = await relay.publish({ topic, kind: 'json', body: JSON.stringify(data), fromUser: s.userId });
    return { offset: m.offset };
  }

  #fail(s: Session, id: RequestId | undefined, err: unknown): void {
    if (err instanceof HeraldError) {
      s.reply(encodeError(id, err.code, err.message));
      return;
    }
    this.#relay.stats.refused('handler_error');
    this.#relay.log.error({ err, client: s.id }, 'herald.v1 request failed');
    s.reply(encodeError(id, 'internal', 'internal error; see the server log'));
  }
}
