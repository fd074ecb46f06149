import type { UserId } from './message.js';

/** A non-negative integer written the canonical way (no sign, no leading zero), safe in JSON. */
const CANONICAL_INT = /^(?:0|[1-9][0-9]{0,15})$/;

/**
 * A user as presence shows it. Presence keys users by String(user id), since 1 and "1" are one
 * user; a key that is a canonical non-negative integer is shown as that number, anything else
 * as the string ("007" stays "007": it is not user 7).
 */
export function presenceUser(key: string): UserId {
  if (CANONICAL_INT.test(key)) {
    const n = Number(key);
    if (Number.isSafeInteger(n)) return n;
  }
  return key;
}
