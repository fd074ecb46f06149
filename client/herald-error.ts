/**
 * An error from Herald or from the SDK around it. `code` is the server's error code
 * (`forbidden`, `rate_limited`, ...) or one of the SDK's own: `timeout` (no reply in time),
 * `disconnected` (the connection dropped before the reply), `closed` (the client was closed).
 *
 * @example
 * try {
 *   await client.publish('news', { hello: 'world' });
 * } catch (err) {
 *   if (err instanceof HeraldError && err.code === 'forbidden') console.log('publishing is off here');
 * }
 */
export class HeraldError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'HeraldError';
    this.code = code;
  }
}
