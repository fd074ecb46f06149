// The Redis key scheme. Every key that a Lua script touches together shares one hash tag
// ({...}), because on Redis Cluster a script may only touch keys of one slot:
//
//   {t:TOPIC}:meta   hash {epoch, offset}  the topic's position       } one slot per topic: the
//   {t:TOPIC}:log    stream, capped         the topic's history       } publish script assigns the
//   {t:TOPIC}:msg    pub/sub channel        live delivery (sharded)   } offset, appends, publishes
//
//   {t:TOPIC}:pu     hash user -> clients   presence: every node's clients of each user } one slot
//   {t:TOPIC}:pc     integer                presence: clients in all                     } with the
//   {t:TOPIC}:pn     sorted set node -> expiry: nodes with members here                  } channel, so
//   {t:TOPIC}:pn:N   hash user -> clients   node N's share, removed when N expires       } join/leave
//                                           (see presence-scripts.ts)                    } go in order
//   {t:TOPIC}:wo     stream: join/leave announcements not yet moved to the webhook stream
//
//   {r:ID}           hash {owner, user, topics, cursors, createdAt, connected, holder} with a TTL;
//                    while connected, the holding node renews it (a lease: see registry-scripts)
//   {u:USER}:regs    sorted set: registration ids of one user, score = expiry; the reserve
//                    script counts, evicts and adds atomically here (the per-user limit)
//   {u:USER}:live    sorted set: those of them with a live socket, score = lease expiry
//   {u:USER}:revoked string: the second of the user's revocation (DELETE /users/:user), with a TTL
//   registrations    sorted set of all ids, score = expiry: count() without scanning
//   {cluster}:topics sorted set topic -> subscribers on every node } the cluster view for operators,
//   {cluster}:nodes  sorted set node -> expiry; :nodes:N node N's  } one slot (see
//                    share (hash topic -> subscribers), :N:stats   } cluster-view-scripts.ts)
//   {cluster}:wh     stream of webhook events, consumed by the group "herald"; the cluster view
//                    scripts append topic.occupied/vacated in the same call that changes the sums
//   {cluster}:wh:on  HERALD_WEBHOOK_MAX_PENDING while a node with webhooks lives (absent: no events)
//   {cluster}:wh:dropped  events dropped past that bound, taken by whoever reads it
//   {cluster}:wh:lease    the node that delivers (one at a time: order), with a TTL it renews
//   {cluster}:wh:sweep    sorted set "node topic" -> when: topics of dead nodes whose presence
//                    shares are to be removed (their member.left queued), by the delivering node
//                    (see webhooks-scripts.ts)
//   alive            marker holding a generation: missing after Redis came back empty
//   control          pub/sub channel (plain PUBLISH reaches every node, also on Cluster)
//
// A registration is keyed by its id alone because connect (GET /ws/:id) knows only the id; the
// per-user set lives in the user's slot, so create is two steps (reserve, then write) and a
// failure in between leaves only a reservation that expires with the TTL.
// Topics spread over shards by their tag; a topic containing "}" still maps all its keys to
// one slot, since the tag ends at the first "}" in every one of them.

export class RedisKeys {
  readonly #p: string;

  constructor(prefix = 'herald:') {
    this.#p = prefix;
  }

  meta(topic: string): string {
    return `${this.#p}{t:${topic}}:meta`;
  }

  log(topic: string): string {
    return `${this.#p}{t:${topic}}:log`;
  }

  channel(topic: string): string {
    return `${this.#p}{t:${topic}}:msg`;
  }

  presenceUsers(topic: string): string {
    return `${this.#p}{t:${topic}}:pu`;
  }

  presenceClients(topic: string): string {
    return `${this.#p}{t:${topic}}:pc`;
  }

  /** Nodes with members in the topic; a node's own share is this key + ':' + node. */
  presenceNodes(topic: string): string {
    return `${this.#p}{t:${topic}}:pn`;
  }

  /** Join/leave announcements on their way to the webhook stream (presence-scripts.ts). */
  presenceOutbox(topic: string): string {
    return `${this.#p}{t:${topic}}:wo`;
  }

  /** Glob matching every topic's meta key (for stats). */
  metaPattern(): string {
    return `${this.#p}{t:*}:meta`;
  }

  logOfMeta(metaKey: string): string {
    return `${metaKey.slice(0, -':meta'.length)}:log`;
  }

  clusterTopics(): string {
    return `${this.#p}{cluster}:topics`;
  }

  /** Live nodes; a node's share is this key + ':' + node, its /stats that + ':stats'. */
  clusterNodes(): string {
    return `${this.#p}{cluster}:nodes`;
  }

  /** The webhook stream and its companions (one slot with the cluster view: see above). */
  webhooks(): { stream: string; dropped: string; on: string; lease: string; sweep: string } {
    const w = `${this.#p}{cluster}:wh`;
    return { stream: w, dropped: `${w}:dropped`, on: `${w}:on`, lease: `${w}:lease`, sweep: `${w}:sweep` };
  }

  registration(id: string): string {
    return `${this.#p}{r:${id}}`;
  }

  userRegistrations(user: string): string {
    return `${this.#p}{u:${user}}:regs`;
  }

  userLive(user: string): string {
    return `${this.#p}{u:${user}}:live`;
  }

  userRevoked(user: string): string {
    return `${this.#p}{u:${user}}:revoked`;
  }

  allRegistrations(): string {
    return `${this.#p}registrations`;
  }

  alive(): string {
    return `${this.#p}alive`;
  }

  control(): string {
    return `${this.#p}control`;
  }
}
