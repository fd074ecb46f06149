// Random ids (registration ids are credentials: 128 bits from the CSPRNG). One call to the
// CSPRNG per id cost more than the rest of making a registration; the bytes are drawn in
// blocks and handed out once each, as Node does for randomUUID.
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/** `bytes` fresh random bytes as hex (2 × bytes characters); never the same bytes twice. */
export function randomHex(bytes: number): string {
  if (bytes > POOL_BYTES) throw new RangeError(`randomHex: at most ${POOL_BYTES} bytes`);
  if (used + bytes > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  // Spent bytes are overwritten at once: an id never lingers in the pool once handed out.
  pool.fill(0, used, used + bytes);
  used += bytes;
  return hex;
}
