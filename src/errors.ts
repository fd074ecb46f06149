// The error catalog: every error Herald answers over HTTP or in a herald.v1 `error` frame.
// The message says what was wrong and how to fix it; docs/errors are in README "Errors".

export const errorCatalog = {
  invalid_json: { status: 400, message: 'The request body is not valid JSON.' },
  invalid_utf8: { status: 400, message: 'The request body is not valid UTF-8.' },
  invalid_body: { status: 400, message: 'The request body does not match the schema.' },
  bad_request: { status: 400, message: 'The request is malformed.' },
  unsafe_user_id: { status: 400, message: 'user_id is an integer above 2^53 - 1, which JSON numbers cannot carry exactly: send it as a string.' },
  too_deep: { status: 400, message: 'The JSON nests arrays/objects deeper than HERALD_MAX_JSON_DEPTH; flatten it.' },
  not_websocket: { status: 400, message: 'This endpoint only accepts WebSocket upgrades (GET with Upgrade: websocket).' },
  unsupported_protocol: { status: 400, message: 'None of the offered WebSocket subprotocols is supported.' },
  unauthorized: { status: 401, message: 'Missing or wrong API key: send `Authorization: Bearer <HERALD_API_KEY>`.' },
  invalid_token: { status: 401, message: 'The connection token is not valid: check its signature, `sub`, `exp`, audience and issuer.' },
  token_expired: { status: 401, message: 'The connection token has expired: get a new one from your backend.' },
  token_revoked: { status: 401, message: 'The user was revoked (DELETE /users/:user) after this token was issued: get a new one.' },
  tokens_disabled: { status: 400, message: 'Connection tokens are not enabled: set HERALD_TOKEN_SECRET or HERALD_TOKEN_PUBLIC_KEY.' },
  forbidden: { status: 403, message: 'This client may not read that topic: give it in the registration\'s topics or grants, or make it public (HERALD_PUBLIC_TOPICS).' },
  origin_not_allowed: { status: 403, message: 'This Origin is not in HERALD_ALLOWED_ORIGINS.' },
  not_found: { status: 404, message: 'Not found.' },
  unknown_client: { status: 404, message: 'No registration has this id: register again with POST /register.' },
  request_timeout: { status: 408, message: 'The whole request was not received within HERALD_REQUEST_TIMEOUT.' },
  headers_too_large: { status: 431, message: 'The request headers are too large.' },
  unsupported_media_type: { status: 415, message: 'Send JSON with `Content-Type: application/json`.' },
  body_too_large: { status: 413, message: 'The request body is larger than HERALD_MAX_BODY_BYTES.' },
  too_many_registrations: { status: 429, message: 'Every registration of this user is connected and the user is at HERALD_MAX_REGISTRATIONS_PER_USER: close or unregister one first.' },
  registrations_full: { status: 503, message: 'Herald holds HERALD_MAX_REGISTRATIONS registrations: unregister clients, or raise the limit.' },
  register_rate_limited: { status: 429, message: 'This address sent more registrations per second than HERALD_REGISTER_RATE; retry after the Retry-After header.' },
  too_many_publish_topics: { status: 429, message: 'This client published to more distinct topics this minute than HERALD_CLIENT_PUBLISH_TOPICS allows.' },
  too_many_connections: { status: 503, message: 'This process has reached HERALD_MAX_CONNECTIONS; try another node or later.' },
  overloaded: { status: 503, message: 'This node is overloaded (a reconnect storm?): retry after the seconds in Retry-After, with backoff and jitter.' },
  shutting_down: { status: 503, message: 'This node is shutting down and keeps nothing after it exits (memory engine): publish again to another node or once it is back.' },
  engine_unavailable: { status: 503, message: 'The engine (Redis) is unreachable; retry shortly.' },
  internal: { status: 500, message: 'Internal error; see the server log.' },
  // herald.v1 request errors (sent in `error` frames, the connection stays up)
  unknown_type: { status: 400, message: 'Unknown request type.' },
  too_many_topics: { status: 400, message: 'Too many topics for one client (HERALD_MAX_TOPICS).' },
  presence_disabled: { status: 400, message: 'This topic has no presence: add a pattern matching it to HERALD_PRESENCE_TOPICS.' },
  invalid_topic: { status: 400, message: 'A topic must be a string of 1..HERALD_MAX_TOPIC_LENGTH characters.' },
} as const;

export type ErrorCode = keyof typeof errorCatalog;

export class HeraldError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** The request never left this process (e.g. Redis was known to be down): nothing happened. */
  readonly unsent: boolean;

  constructor(code: ErrorCode, message?: string, options: { unsent?: boolean } = {}) {
    super(message ?? errorCatalog[code].message);
    this.name = 'HeraldError';
    this.code = code;
    this.status = errorCatalog[code].status;
    this.unsent = options.unsent ?? false;
  }

  toJSON(): { error: ErrorCode; message: string } {
    return { error: this.code, message: this.message };
  }
}
