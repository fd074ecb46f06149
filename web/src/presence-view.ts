// The presence panel of the tapped topic: counts and members from GET /presence/:topic.
import { ApiError, type Api } from './api.js';
import { $, h, num } from './dom.js';

interface PresenceBody {
  topic: string;
  clients: number;
  users: number;
  members?: Array<{ user: string | number; clients: number }>;
}

/** Members shown at most (the counts are always whole). */
const SHOWN = 20;

export class PresenceView {
  readonly #api: Api;
  #topic: string | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(api: Api) {
    this.#api = api;
  }

  show(topic: string, intervalMs = 2000): void {
    this.hide();
    this.#topic = topic;
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), intervalMs);
  }

  hide(): void {
    clearInterval(this.#timer);
    this.#topic = undefined;
    $('presence-state').textContent = '';
    $('presence-members').replaceChildren();
  }

  async refresh(): Promise<void> {
    const topic = this.#topic;
    if (topic === undefined) return;
    let p: PresenceBody;
    try {
      p = await this.#api.get<PresenceBody>(`/presence/${encodeURIComponent(topic)}`);
    } catch (err) {
      if (topic !== this.#topic) return;
      $('presence-state').textContent = err instanceof ApiError && err.code === 'presence_disabled' ? `no presence on ${topic} (see HERALD_PRESENCE_TOPICS)` : `presence unavailable: ${(err as Error).message}`;
      $('presence-members').replaceChildren();
      return;
    }
    if (topic !== this.#topic) return;
    $('presence-state').textContent = `present in ${topic}: ${num(p.users)} users, ${num(p.clients)} clients`;
    const members = (p.members ?? []).slice(0, SHOWN);
    $('presence-members').replaceChildren(
      ...members.map((m) => h('li', {}, h('span', { className: 'mono', text: String(m.user) }), h('span', { className: 'muted', text: ` ×${m.clients}` }))),
      ...((p.members?.length ?? 0) > SHOWN ? [h('li', { className: 'muted', text: `and ${num(p.members!.length - SHOWN)} more` })] : []),
    );
  }
}
