/** The longest Retry-After the client honours: a server's hint, not a reason to vanish for a day. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/**
 * A `Retry-After` header (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) as milliseconds from
 * `nowMs`; undefined when absent or unreadable. The value comes from the network: anything odd
 * is ignored and a huge one is capped at {@link MAX_RETRY_AFTER_MS}.
 *
 * @example
 * parseRetryAfter('2');                              // 2000
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT');  // ms until then (0 if past)
 */
export function parseRetryAfter(value: string | null | undefined, nowMs = Date.now()): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text.length === 0 || text.length > 64) return undefined;
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else {
    const at = Date.parse(text);
    if (!Number.isFinite(at) || !/[a-z]/i.test(text)) return undefined;
    ms = Math.max(0, at - nowMs);
  }
  return Number.isFinite(ms) ? Math.min(ms, MAX_RETRY_AFTER_MS) : undefined;
}
