// The tap: one page-owned registration that subscribes to a topic and shows what flows on it.
import type { HeraldClient, Subscription } from '../../client/index.js';
import type { Api } from './api.js';
import { $, logLine, preview, time } from './dom.js';
import { PresenceView } from './presence-view.js';
import { connect, pageUser, register, unregister, type Registered } from './registration.js';

export class Tap {
  readonly #api: Api;
  readonly #presence: PresenceView;
  #reg: Registered | undefined;
  #client: HeraldClient | undefined;
  #sub: Subscription | undefined;
  #opening: Promise<HeraldClient> | undefined;

  constructor(api: Api) {
    this.#api = api;
    this.#presence = new PresenceView(api);
    $('tap-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.tap($<HTMLInputElement>('tap-topic').value.trim());
    });
    $('tap-stop').addEventListener('click', () => void this.stop());
  }

  async tap(topic: string): Promise<void> {
    if (!topic) return;
    $<HTMLInputElement>('tap-topic').value = topic;
    const log = $('tap-log');
    try {
      const client = await this.#open();
      await this.stop(false);
      const sub = client.subscribe(topic);
      this.#sub = sub;
      sub.on('message', (m) => logLine(log, [['t', time(m.ts)], ['topic', `${m.topic} #${m.offset}`], ['', preview(m)]]));
      await sub.ready();
      $('tap-state').textContent = `tapping ${topic}: new broadcasts appear below (user-addressed ones are not shown).`;
      $<HTMLButtonElement>('tap-stop').disabled = false;
      this.#presence.show(topic);
    } catch (err) {
      logLine(log, [['err', `could not tap ${topic}: ${(err as Error).message}`]]);
    }
  }

  async stop(say = true): Promise<void> {
    const sub = this.#sub;
    this.#sub = undefined;
    $<HTMLButtonElement>('tap-stop').disabled = true;
    this.#presence.hide();
    if (!sub) return;
    await sub.unsubscribe().catch(() => {});
    if (say) $('tap-state').textContent = `stopped tapping ${sub.topic}.`;
  }

  /** Deletes the tap's registration when the page goes away. */
  dispose(): void {
    this.#presence.hide();
    void this.#client?.close();
    if (this.#reg) void unregister(this.#api, this.#reg.id, true).catch(() => {});
  }

  #open(): Promise<HeraldClient> {
    this.#opening ??= (async () => {
      this.#reg = await register(this.#api, pageUser('tap'), []);
      this.#client = await connect(this.#reg);
      return this.#client;
    })();
    this.#opening.catch(() => (this.#opening = undefined));
    return this.#opening;
  }
}
