// A WebSocket subscriber over a bare net.Socket: the upgrade handshake by hand, then frames
// parsed by FrameParser. About 3x cheaper per message than the `ws` client, so the load
// generator is not what limits a run.
import { connect, type Socket } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import {
  FrameParser,
  OPCODE_CLOSE,
  OPCODE_PING,
  OPCODE_PONG,
  OPCODE_TEXT,
  type FrameSink,
} from './frame-parser.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const HEADER_END = Buffer.from('\r\n\r\n');
// Every subscriber reads into this one buffer; each read is parsed before the next one happens.
const sharedReadBuffer = Buffer.allocUnsafe(256 * 1024);

/** Called for every data message a subscriber receives (payload only when capturing). */
export type MessageListener = (subscriber: { readonly tag: number }, payload: Buffer | null, length: number) => void;

export interface SubscriberOptions {
  readonly host: string;
  readonly port: number;
  readonly path: string;
  /** A 127.0.0.x source address: each one has its own ~28k ephemeral ports. */
  readonly localAddress?: string;
  readonly capture?: boolean;
  readonly timeoutMs?: number;
  readonly onMessage?: MessageListener;
  /** Offered in Sec-WebSocket-Protocol (e.g. herald.v1); none: the plain protocol. */
  readonly protocol?: string;
  /** Called once when the connection is gone, whoever closed it. */
  readonly onClose?: (subscriber: RawSubscriber) => void;
}

/** An upgrade that was answered with another status than 101 (0: no HTTP answer at all). */
export class HandshakeError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

export class RawSubscriber implements FrameSink {
  /** Data messages received since connect. */
  messages = 0;
  /** Payload bytes received since connect. */
  bytes = 0;
  /** The close code the server sent, if it closed the connection. */
  closeCode: number | null = null;
  closed = false;
  error: string | null = null;
  /** Free for the caller (e.g. its index in a table). */
  tag = 0;
  readonly #socket: Socket;
  readonly #parser: FrameParser;
  readonly #onMessage: MessageListener | undefined;

  private constructor(socket: Socket, capture: boolean, onMessage: MessageListener | undefined, onClose: SubscriberOptions['onClose']) {
    this.#socket = socket;
    this.#parser = new FrameParser(this, capture);
    this.#onMessage = onMessage;
    socket.on('error', (err: Error) => {
      this.error ??= err.message;
    });
    socket.on('close', () => {
      this.closed = true;
      onClose?.(this);
    });
  }

  /** Opens the TCP connection and completes the upgrade; rejects on anything but 101 + a valid accept key. */
  static connect(options: SubscriberOptions): Promise<RawSubscriber> {
    return new Promise((resolve, reject) => {
      const key = randomBytes(16).toString('base64');
      let subscriber: RawSubscriber | null = null;
      let pending: Buffer | null = null;
      let upgraded = false;
      const timer = setTimeout(() => fail(new Error(`upgrade of ${options.path.replace(/\?.*/, '')} timed out`)), options.timeoutMs ?? 15_000);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      const onHandshakeData = (chunk: Buffer): void => {
        // Copy: the read buffer is shared and reused by the next read.
        const buf: Buffer = pending === null ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
        const end = buf.indexOf(HEADER_END);
        if (end < 0) {
          pending = buf;
          return;
        }
        const head = buf.toString('latin1', 0, end);
        const status = head.slice(9, 12);
        if (status !== '101') {
          fail(new HandshakeError(`upgrade of ${options.path.replace(/\?.*/, '')} answered ${head.split('\r\n')[0] ?? '?'}`, Number(status) || 0));
          return;
        }
        const expected = createHash('sha1').update(key + GUID).digest('base64');
        const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(head)?.[1];
        if (accept !== expected) {
          fail(new Error(`upgrade of ${options.path}: bad Sec-WebSocket-Accept`));
          return;
        }
        clearTimeout(timer);
        upgraded = true;
        socket.off('error', fail);
        const sub = new RawSubscriber(socket, options.capture ?? false, options.onMessage, options.onClose);
        subscriber = sub;
        resolve(sub);
        if (end + 4 < buf.length) sub.#parser.feed(buf.subarray(end + 4));
      };
      // `onread` reads into one shared buffer: no Buffer and no stream machinery per read, which
      // is most of a small read's cost in Node.
      const socket = connect({
        host: options.host,
        port: options.port,
        localAddress: options.localAddress,
        onread: {
          buffer: sharedReadBuffer,
          callback: (bytes: number) => {
            const chunk = sharedReadBuffer.subarray(0, bytes);
            if (subscriber !== null) subscriber.#parser.feed(chunk);
            else if (!upgraded) onHandshakeData(chunk);
            return true;
          },
        },
      });
      socket.setNoDelay(true);
      socket.on('error', fail);
      socket.once('connect', () => {
        socket.write(
          `GET ${options.path} HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\n` +
            `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
            (options.protocol === undefined ? '' : `Sec-WebSocket-Protocol: ${options.protocol}\r\n`) +
            'Sec-WebSocket-Version: 13\r\n\r\n',
        );
      });
    });
  }

  /** Whether payloads are captured (and handed to the listener) from now on. */
  set capture(value: boolean) {
    this.#parser.capture = value;
  }

  onMessage(_opcode: number, payload: Buffer | null, length: number): void {
    this.messages++;
    this.bytes += length;
    if (this.#onMessage !== undefined) this.#onMessage(this, payload, length);
  }

  onControl(opcode: number, payload: Buffer): void {
    if (opcode === OPCODE_PING) {
      this.#socket.write(maskedFrame(OPCODE_PONG, payload));
    } else if (opcode === OPCODE_CLOSE) {
      this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      if (!this.closed) this.#socket.end(maskedFrame(OPCODE_CLOSE, payload.subarray(0, 2)));
    }
  }

  onProtocolError(reason: string): void {
    this.error ??= reason;
    this.#socket.destroy();
  }

  /** Sends one text message (masked, as every client frame must be). */
  sendText(text: string): void {
    this.#socket.write(maskedFrame(OPCODE_TEXT, Buffer.from(text)));
  }

  /** Drops the connection at once (the benchmark does not wait for close handshakes). */
  destroy(): void {
    this.#socket.destroy();
  }
}

/** Frames a client->server message: FIN set, masked with a random key (RFC 6455 §5.3). */
export function maskedFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65_536 ? 2 : 8;
  const header = 2 + lengthBytes + 4;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x80 | opcode;
  if (lengthBytes === 0) {
    frame[1] = 0x80 | length;
  } else if (lengthBytes === 2) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  const mask = randomBytes(4);
  mask.copy(frame, 2 + lengthBytes);
  for (let i = 0; i < length; i++) frame[header + i] = (payload[i] as number) ^ (mask[i & 3] as number);
  return frame;
}
