import type { RawData } from 'ws';
import { HeraldError } from '../errors.js';
import { decodeV1, encodeError, encodeOk, encodePong, encodePresence, type PresenceBody, type RequestId, type V1Request } from '../protocol/v1.js';
import type { TokenGrant } from './identity.js';
import type { Relay } from './relay.js';
import type { Session } from './session.js';
import { PublishTopics } from './publish-topics.js';

/** Verifies a connection token (throws HeraldError invalid_token, token_expired). */
export type TokenCheck = (token: string) => Promise<TokenGrant>;

/** herald.v1 requests: each gets exactly one reply (ok, pong or error); the socket stays up. */
export class V1Handler {
  readonly #relay: Relay;
  readonly #verify: TokenCheck | undefined;
  readonly #publishTopics: PublishTopics;

  /** `verify` checks a `refresh` token (HTTP's token verifier): the relay never sees a JWT. */
  constructor(relay: Relay, verify?: TokenCheck) {
    this.#relay = relay;
    this.#verify = verify;
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
    if (req.type === 'presence') {
      // In line with the session's topic changes: asked after a subscribe, it shows the subscriber.
      this.#relay
        .serialize(s, () => this.#presence(s, req.topic))
        .then((body) => s.reply(encodePresence(req.id, body)))
        .catch((err: unknown) => this.#fail(s, req.id, err));
      return;
    }
    this.#relay
      .serialize(s, () => this.#run(s, req))
      .then((extra) => s.reply(encodeOk(req.id, extra)))
      .catch((err: unknown) => this.#fail(s, req.id, err));
  }

  async #run(s: Session, req: Exclude<V1Request, { type: 'ping' | 'presence' }>): Promise<Record<string, unknown> | undefined> {
    const relay = this.#relay;
    if (req.type === 'publish') return this.#publish(s, req.topic, req.data);
    if (req.type === 'refresh') return this.#refresh(s, req.token);
    const check = relay.checkTopics(req.topics);
    if (!check.ok) throw new HeraldError(check.code, check.message);
    // Leaving is always allowed; holding needs the right to read (nothing changes otherwise).
    const forbidden = req.type === 'unsubscribe' ? undefined : s.rights.firstForbidden(check.topics);
    if (forbidden !== undefined) {
      relay.stats.refused('forbidden_topic');
      throw new HeraldError('forbidden', `this client may not read ${JSON.stringify(forbidden)}: it is not public, nor in its registration's topics or grants`);
    }
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

  async #presence(s: Session, topic: string): Promise<PresenceBody> {
    const relay = this.#relay;
    const check = relay.checkTopics([topic]);
    if (!check.ok) throw new HeraldError(check.code, check.message);
    if (!relay.mayRead(s, topic)) throw new HeraldError('forbidden', `this client may not read "${topic}"`);
    return relay.presence(topic, true);
  }

  async #publish(s: Session, topic: string, data: unknown): Promise<Record<string, unknown>> {
    const relay = this.#relay;
    const check = relay.checkTopics([topic]);
    if (!check.ok) throw new HeraldError(check.code, check.message);
    if (!s.rights.mayPublish(topic)) {
      relay.stats.refused('forbidden_publish');
      throw new HeraldError('forbidden', `this client may not publish to ${JSON.stringify(topic)}: clients publish only to topics they may read that match HERALD_CLIENT_PUBLISH (${relay.access.clientPublish.join(', ') || 'none'})`);
    }
    // Keyed by registration, or by user for token connections (a fresh id each connection).
    if (!this.#publishTopics.admit(s.registered ? s.id : `u:${s.userKey}`, topic)) {
      relay.stats.refused('publish_topics');
      throw new HeraldError('too_many_publish_topics', `this client published to ${relay.config.clientPublishTopics} different topics in the last minute (HERALD_CLIENT_PUBLISH_TOPICS); publish to those, or wait for the next minute`);
    }
    const m = await relay.publish({ topic, kind: 'json', body: JSON.stringify(data), fromUser: s.userId });
    return { offset: m.offset };
  }

  async #refresh(s: Session, token: string): Promise<undefined> {
    if (!this.#verify) throw new HeraldError('tokens_disabled');
    const grant = await this.#verify(token);
    await this.#relay.refresh(s, grant);
    return undefined;
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
