import type { Message, PublishInput } from '../../core/message.js';
import type { Broker, ControlEvent, ControlHandler, MessageHandler } from '../broker.js';
import type { MemoryHistory } from './history-memory.js';

/** One process: a publish is appended to history and handed to the hub in the same tick. */
export class MemoryBroker implements Broker {
  readonly #history: MemoryHistory;
  #onMessage: MessageHandler = () => {};
  #onControl: ControlHandler = () => {};

  constructor(history: MemoryHistory) {
    this.#history = history;
  }

  async publish(input: PublishInput): Promise<Message> {
    const m = this.#history.append(input);
    this.#onMessage(m);
    return m;
  }

  onMessage(handler: MessageHandler): void {
    this.#onMessage = handler;
  }

  async subscribe(): Promise<void> {}
  async unsubscribe(): Promise<void> {}

  async sendControl(event: ControlEvent): Promise<void> {
    this.#onControl(event);
  }

  onControl(handler: ControlHandler): void {
    this.#onControl = handler;
  }

  async close(): Promise<void> {}
}
