// The reconnect storm's steady publisher: POST /publish to the rooms at a fixed rate over a few
// keep-alive connections, each owning some rooms and keeping one request in flight, so a room's
// publishes are answered in the order they were sent. While the node is down every attempt is
// retried (a fresh seq each time: an attempt that got no answer may still have been published)
// until it is answered 200; only those count as sent.
import { HttpConnection } from './raw-http-client.js';
import { stormMessage, type StormLedger } from './storm-ledger.js';
import type { StormPublishCommand } from './storm-protocol.js';

const RETRY_MS = 20;

export class StormPublisher {
  readonly #host: string;
  readonly #port: number;
  readonly #ledger: StormLedger;
  readonly #rooms: number;
  readonly #cmd: StormPublishCommand;
  #stopping = false;
  #lanes: Promise<void>[] = [];

  constructor(host: string, port: number, ledger: StormLedger, rooms: number, cmd: StormPublishCommand) {
    this.#host = host;
    this.#port = port;
    this.#ledger = ledger;
    this.#rooms = rooms;
    this.#cmd = cmd;
  }

  start(): void {
    const lanes = Math.max(1, Math.min(this.#cmd.lanes, this.#rooms));
    this.#lanes = Array.from({ length: lanes }, (_v, lane) => this.#lane(lane, lanes));
  }

  /** Stops after the attempts in flight; resolves when every lane has. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#lanes);
  }

  async #lane(lane: number, lanes: number): Promise<void> {
    const rooms: number[] = [];
    for (let r = lane; r < this.#rooms; r += lanes) rooms.push(r);
    const interval = (1000 * lanes) / this.#cmd.ratePerSecond;
    let connection: HttpConnection | null = null;
    let due = performance.now();
    for (let i = 0; !this.#stopping; i++) {
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (this.#stopping) break;
      const room = rooms[i % rooms.length] as number;
      while (!this.#stopping) {
        const seq = this.#ledger.nextSeq(room);
        try {
          connection ??= await HttpConnection.open(this.#host, this.#port);
          const body = `{"topic":"room.${room}","message":"${stormMessage(room, seq, this.#cmd.payloadBytes)}"}`;
          const res = await connection.request({ method: 'POST', path: '/publish', body });
          if (res.status === 200) {
            this.#ledger.confirm(room, seq);
            break;
          }
          if (res.status === 503) this.#ledger.publish503++;
        } catch {
          connection?.close();
          connection = null;
        }
        this.#ledger.publishRetries++;
        await sleep(RETRY_MS);
      }
      due += interval;
    }
    connection?.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
