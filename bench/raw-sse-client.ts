// A Server-Sent Events subscriber over a bare net.Socket, the SSE twin of raw-ws-client.ts:
// it counts events by their blank-line terminators without decoding them, and only sampled
// subscribers (capture) look inside for the payload's sequence number and send time.
import { connect, type Socket } from 'node:net';
import type { MessageListener } from './raw-ws-client.js';

const HEADER_END = Buffer.from('\r\n\r\n');
const NL = 0x0a;
const DATA_FIELD = Buffer.from('"data":"');
// Every subscriber reads into this one buffer; each read is handled before the next one happens.
const sharedReadBuffer = Buffer.allocUnsafe(256 * 1024);

export interface SseSubscriberOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly localAddress?: string;
  readonly timeoutMs?: number;
  readonly onMessage?: MessageListener;
}

/** Events before the first message: the `retry:` line's block and the `welcome` event. */
const PREAMBLE_EVENTS = 2;

export class RawSseSubscriber {
  messages = 0;
  bytes = 0;
  closeCode: number | null = null;
  closed = false;
  error: string | null = null;
  tag = 0;
  capture = false;
  readonly #socket: Socket;
  readonly #onMessage: MessageListener | undefined;
  #events = 0;
  #lastWasNl = false;
  /** A captured subscriber's unfinished event text. */
  #partial = '';

  private constructor(socket: Socket, onMessage: MessageListener | undefined) {
    this.#socket = socket;
    this.#onMessage = onMessage;
    socket.on('error', (err: Error) => {
      this.error ??= err.message;
    });
    socket.on('close', () => {
      this.closed = true;
    });
  }

  /** Opens the stream; resolves once the 200 head arrived, rejects on anything else. */
  static connect(options: SseSubscriberOptions): Promise<RawSseSubscriber> {
    return new Promise((resolve, reject) => {
      let subscriber: RawSseSubscriber | null = null;
      let pending: Buffer | null = null;
      const timer = setTimeout(() => fail(new Error(`GET ${options.path} timed out`)), options.timeoutMs ?? 15_000);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const onHead = (chunk: Buffer): void => {
        const buf: Buffer = pending === null ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
        const end = buf.indexOf(HEADER_END);
        if (end < 0) {
          pending = buf;
          return;
        }
        const head = buf.toString('latin1', 0, end);
        if (head.slice(9, 12) !== '200') {
          fail(new Error(`GET ${options.path} answered ${head.split('\r\n')[0] ?? '?'}`));
          return;
        }
        clearTimeout(timer);
        socket.off('error', fail);
        const sub = new RawSseSubscriber(socket, options.onMessage);
        subscriber = sub;
        resolve(sub);
        if (end + 4 < buf.length) sub.#feed(buf.subarray(end + 4));
      };
      const socket = connect({
        host: options.host,
        port: options.port,
        localAddress: options.localAddress,
        onread: {
          buffer: sharedReadBuffer,
          callback: (bytes: number) => {
            const chunk = sharedReadBuffer.subarray(0, bytes);
            if (subscriber !== null) subscriber.#feed(chunk);
            else onHead(chunk);
            return true;
          },
        },
      });
      socket.setNoDelay(true);
      socket.on('error', fail);
      socket.once('connect', () => {
        socket.write(`GET ${options.path} HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\nAccept: text/event-stream\r\n\r\n`);
      });
    });
  }

  /** Counts "\n\n" (the end of an event; comment lines never make one); captured ones are also read. */
  #feed(chunk: Buffer): void {
    this.bytes += chunk.length;
    let ends = 0;
    let i = chunk.indexOf(NL);
    if (i === 0 && this.#lastWasNl) ends++;
    while (i >= 0 && i + 1 < chunk.length) {
      if (chunk[i + 1] === NL) {
        ends++;
        i = chunk.indexOf(NL, i + 2);
      } else {
        i = chunk.indexOf(NL, i + 1);
      }
    }
    this.#lastWasNl = chunk[chunk.length - 1] === NL;
    const before = this.#events;
    this.#events += ends;
    const fresh = Math.max(0, this.#events - PREAMBLE_EVENTS) - Math.max(0, before - PREAMBLE_EVENTS);
    if (fresh === 0) return;
    if (!this.capture) {
      for (let n = 0; n < fresh; n++) {
        this.messages++;
        this.#onMessage?.(this, null, 0);
      }
      return;
    }
    // Sampled: hand the loadgen each event's payload ("seq:sendTime:xxx").
    const text = this.#partial + chunk.toString('utf8');
    const blocks = text.split('\n\n');
    this.#partial = blocks.pop() ?? '';
    for (const block of blocks) {
      const at = block.indexOf(DATA_FIELD.toString());
      if (at < 0 || !block.includes('"type":"message"')) continue;
      const start = at + DATA_FIELD.length;
      const payload = Buffer.from(block.slice(start, block.indexOf('"', start)), 'latin1');
      this.messages++;
      this.#onMessage?.(this, payload, payload.length);
    }
  }

  destroy(): void {
    this.#socket.destroy();
  }
}
