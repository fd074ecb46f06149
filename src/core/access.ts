// Who may read what (DESIGN.md 6): one place answers "may this client hold / publish to this
// topic", and every way in (plain and herald.v1 requests, ?since=, client publish, PATCH) asks it.
// Access is decided when a topic is joined, never per message.
import { namesUser, topicMatcher, type TopicTest } from './topic-pattern.js';
import type { UserId } from './message.js';

export interface AccessConfig {
  /** HERALD_PUBLIC_TOPICS: topics any client may hold. */
  publicTopics: string[];
  /** HERALD_CLIENT_PUBLISH: topics herald.v1 clients may publish to (if they may also read them). */
  clientPublish: string[];
}

const NO_GRANTS: readonly string[] = Object.freeze([]);

/** The process-wide rules; patterns without `{user}` compile once here. */
export class AccessPolicy {
  readonly #config: AccessConfig;
  readonly #public: TopicTest;
  readonly #publicPerUser: string[];
  readonly #publish: TopicTest;
  readonly #publishPerUser: string[];

  constructor(config: AccessConfig) {
    this.#config = config;
    this.#public = topicMatcher(config.publicTopics);
    this.#publicPerUser = config.publicTopics.filter(namesUser);
    this.#publish = topicMatcher(config.clientPublish);
    this.#publishPerUser = config.clientPublish.filter(namesUser);
  }

  /** The rights of one client: its registration's (or token's) topics and grants. */
  rights(user: UserId, topics: readonly string[], grants: readonly string[]): Rights {
    // Most clients have no grants: they share one empty list instead of each holding its own.
    return new Rights(this, String(user), topics, grants.length === 0 ? NO_GRANTS : grants);
  }

  isPublic(topic: string): boolean {
    return this.#public(topic);
  }

  /** Grants plus the `{user}` public patterns of one user, compiled into one test. */
  ownTest(user: string, grants: readonly string[]): TopicTest {
    return topicMatcher([...grants, ...this.#publicPerUser], user);
  }

  publishTest(user: string): TopicTest {
    if (this.#publishPerUser.length === 0) return this.#publish;
    const own = topicMatcher(this.#publishPerUser, user);
    return (t) => this.#publish(t) || own(t);
  }

  /** For error messages: what the operator allowed clients to publish to. */
  get clientPublish(): readonly string[] {
    return this.#config.clientPublish;
  }
}

/** One client's rights. Patterns compile on first need, once per client. */
export class Rights {
  readonly user: string;
  /** Topics the backend gave (registration or token): always allowed. */
  readonly topics: readonly string[];
  /** Patterns the backend gave. */
  readonly grants: readonly string[];
  readonly #policy: AccessPolicy;
  #own: TopicTest | undefined;
  #publish: TopicTest | undefined;

  constructor(policy: AccessPolicy, user: string, topics: readonly string[], grants: readonly string[]) {
    this.#policy = policy;
    this.user = user;
    this.topics = topics;
    this.grants = grants;
  }

  mayHold(topic: string): boolean {
    if (this.#policy.isPublic(topic) || this.topics.includes(topic)) return true;
    this.#own ??= this.#policy.ownTest(this.user, this.grants);
    return this.#own(topic);
  }

  /** The first topic of a list this client may not hold, if any. */
  firstForbidden(topics: Iterable<string>): string | undefined {
    for (const t of topics) if (!this.mayHold(t)) return t;
    return undefined;
  }

  mayPublish(topic: string): boolean {
    this.#publish ??= this.#policy.publishTest(this.user);
    return this.#publish(topic) && this.mayHold(topic);
  }
}
