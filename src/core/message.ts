// A published message as it travels: HTTP route -> relay -> broker -> hub -> socket.

/** A user id: a non-negative integer or a string of 1..128 characters. */
export type UserId = number | string;

/** How the payload was given: `message` (a string), `data` (JSON) or `binary` (base64). */
export type PayloadKind = 'text' | 'json' | 'binary';

export interface PublishInput {
  topic: string;
  userId?: UserId | undefined;
  kind: PayloadKind;
  /** text: the string; json: the JSON text; binary: the base64 text. */
  body: string;
  /** Set when a client published it (herald.v1 `publish`): the publishing client's user. */
  fromUser?: UserId | undefined;
}

export interface Message extends PublishInput {
  id: string;
  /** Position in the topic's history: 1, 2, 3, ... */
  offset: number;
  /** Names the topic's history; a new epoch means history was lost. */
  epoch: string;
  /** Publish time, ms since the epoch. */
  ts: number;
}

/** Where a topic's stream stands, or where a client stands in it. */
export interface StreamPosition {
  offset: number;
  epoch: string;
}
