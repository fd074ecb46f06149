// The tester: walks through what an application does with Herald. Register a client, connect it
// (herald.v1, through the client SDK), change its topics, publish over HTTP, and watch its
// own messages come back.
import type { HeraldClient } from '../../client/index.js';
import type { Api } from './api.js';
import { $, logLine, preview, time, topicList } from './dom.js';
import { connect, register, unregister, type Registered } from './registration.js';

export class Tester {
  readonly #api: Api;
  #reg: Registered | undefined;
  #client: HeraldClient | undefined;
  /** What the connection receives: the registration's topics plus changes made here. */
  #topics: string[] = [];

  constructor(api: Api) {
    this.#api = api;
    $('tester-register').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.#run('register', () => this.register());
    });
    $('tester-connect').addEventListener('click', () => void this.#run('connect', () => this.connect()));
    $('tester-disconnect').addEventListener('click', () => void this.#run('disconnect', () => this.disconnect()));
    $('tester-unregister').addEventListener('click', () => void this.#run('unregister', () => this.unregister()));
    $('tester-topics-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.#run('set topics', () => this.setTopics(topicList($<HTMLInputElement>('tester-new-topics').value)));
    });
    $('tester-publish').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.#run('publish', () => this.publish());
    });
    this.#refresh();
  }

  async register(): Promise<void> {
    await this.disconnect();
    const raw = $<HTMLInputElement>('tester-user').value.trim();
    const userId = /^\d{1,15}$/.test(raw) ? Number(raw) : raw;
    const topics = topicList($<HTMLInputElement>('tester-topics').value);
    this.#reg = await register(this.#api, userId, topics);
    this.#topics = this.#reg.topics;
    $('tester-id').textContent = `registered ${this.#reg.id.slice(0, 8)}… as user ${JSON.stringify(userId)}`;
    $('tester-id').className = '';
    this.#say(`registered: ${this.#reg.url}`);
    this.#refresh();
  }

  async connect(): Promise<void> {
    if (!this.#reg || this.#client) return;
    this.#setState('connecting');
    const client = await connect(this.#reg);
    this.#client = client;
    client.on('state', ({ state, code, reason }) => {
      this.#setState(state);
      if (state === 'disconnected' || state === 'closed') this.#say(`${state}${code ? ` (${code}${reason ? ` ${reason}` : ''})` : ''}`);
      if (state === 'closed' && this.#client === client) {
        this.#client = undefined;
        this.#refresh();
      }
    });
    client.on('message', (m) => logLine($('tester-log'), [['t', time(m.ts)], ['topic', `${m.topic} #${m.offset}`], ['', preview(m)]]));
    this.#topics = client.welcome?.topics ?? this.#topics;
    this.#setState(client.state);
    this.#say(`connected, receiving ${this.#topics.join(', ') || 'no topic'}`);
    this.#refresh();
  }

  async disconnect(): Promise<void> {
    const c = this.#client;
    this.#client = undefined;
    if (c) await c.close();
    this.#setState('idle');
    this.#refresh();
  }

  async unregister(): Promise<void> {
    if (!this.#reg) return;
    const id = this.#reg.id;
    this.#reg = undefined;
    await unregister(this.#api, id);
    // The server closes the socket with 4001; the client stops for good.
    this.#say('unregistered');
    $('tester-id').textContent = 'not registered';
    $('tester-id').className = 'muted';
    this.#refresh();
  }

  /** Subscribes to what is new, unsubscribes from what is gone (each confirmed by the server). */
  async setTopics(wanted: string[]): Promise<void> {
    const c = this.#client;
    if (!c) return;
    const gone = this.#topics.filter((t) => !wanted.includes(t));
    const added = wanted.filter((t) => !this.#topics.includes(t));
    await Promise.all([...gone.map((t) => c.unsubscribe(t)), ...added.map((t) => c.subscribe(t).ready())]);
    this.#topics = wanted;
    this.#say(`topics: ${wanted.join(', ') || 'none'}`);
    this.#refresh();
  }

  async publish(): Promise<void> {
    const topic = $<HTMLInputElement>('tester-pub-topic').value.trim();
    const message = $<HTMLInputElement>('tester-pub-message').value;
    const toUser = $<HTMLInputElement>('tester-pub-user').checked;
    const body: Record<string, unknown> = { topic, message };
    if (toUser) {
      const raw = $<HTMLInputElement>('tester-user').value.trim();
      body.user_id = /^\d{1,15}$/.test(raw) ? Number(raw) : raw;
    }
    const r = await this.#api.post<{ id: string; offset: number }>('/publish', body);
    this.#say(`published to ${topic} (offset ${r.offset})`);
  }

  dispose(): void {
    void this.#client?.close();
    if (this.#reg) void unregister(this.#api, this.#reg.id, true).catch(() => {});
  }

  async #run(what: string, task: () => Promise<void>): Promise<void> {
    try {
      await task();
    } catch (err) {
      logLine($('tester-log'), [['err', `${what} failed: ${(err as Error).message}`]]);
      this.#refresh();
    }
  }

  #say(text: string): void {
    logLine($('tester-log'), [['t', time(Date.now())], ['sys', text]]);
  }

  #setState(state: string): void {
    const el = $('tester-state');
    el.textContent = state;
    el.className = `badge ${state === 'connected' ? 'ok' : state === 'closed' || state === 'disconnected' ? 'bad' : ''}`;
  }

  #refresh(): void {
    const registered = this.#reg !== undefined;
    const connected = this.#client !== undefined;
    $<HTMLButtonElement>('tester-connect').disabled = !registered || connected;
    $<HTMLButtonElement>('tester-disconnect').disabled = !connected;
    $<HTMLButtonElement>('tester-unregister').disabled = !registered;
    $<HTMLButtonElement>('tester-set-topics').disabled = !connected;
    $('tester-current').textContent = this.#topics.join(', ') || '–';
    if (connected && document.activeElement !== $('tester-new-topics')) $<HTMLInputElement>('tester-new-topics').value = this.#topics.join(', ');
  }
}
