import { HeraldError } from './herald-error.js';
import type { ErrorFrame, OkFrame, PongFrame, PresenceFrame, RequestId } from './wire.js';

export type Reply = OkFrame | PongFrame | PresenceFrame;

interface Pending {
  resolve: (reply: Reply) => void;
  reject: (error: HeraldError) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Requests waiting for their reply, matched by id. Every request has a deadline, so a reply
 * the server never sends turns into a `timeout` error instead of a promise that never settles.
 */
export class Requests {
  #nextId = 1;
  #pending = new Map<RequestId, Pending>();

  /** Reserves an id and a promise for its reply. */
  open(timeoutMs: number): { id: number; reply: Promise<Reply> } {
    const id = this.#nextId++;
    const reply = new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new HeraldError('timeout', `no reply from the server within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
    });
    return { id, reply };
  }

  /** Settles the request a reply answers; false when no request waits for that id. */
  settle(frame: Reply | ErrorFrame): boolean {
    if (frame.id === undefined) return false;
    const pending = this.#pending.get(frame.id);
    if (!pending) return false;
    this.#pending.delete(frame.id);
    clearTimeout(pending.timer);
    if (frame.type === 'error') pending.reject(new HeraldError(frame.code, frame.message));
    else pending.resolve(frame);
    return true;
  }

  cancel(id: RequestId, error: HeraldError): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.reject(error);
  }

  /** Rejects everything in flight (the connection dropped or the client closed). */
  rejectAll(error: HeraldError): void {
    for (const id of [...this.#pending.keys()]) this.cancel(id, error);
  }

  get size(): number {
    return this.#pending.size;
  }
}
