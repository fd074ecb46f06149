// Counters, charts and busiest topics, from GET /stats once a second.
import type { StatsBody } from '../../src/protocol/stats-body.js';
import type { Api } from './api.js';
import { drawChart } from './chart.js';
import { $, h, num } from './dom.js';

/** The body of GET /stats (one definition, shared with the server). */
export type Stats = StatsBody;

const WINDOW = 60;

export class StatsView {
  readonly #api: Api;
  readonly #onTopic: (topic: string) => void;
  readonly #rates = { pub: [] as number[], del: [] as number[], conn: [] as number[] };
  #last: Stats | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(api: Api, onTopic: (topic: string) => void) {
    this.#api = api;
    this.#onTopic = onTopic;
  }

  start(intervalMs = 1000): void {
    void this.refresh();
    this.#timer = setInterval(() => void this.refresh(), intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async refresh(): Promise<void> {
    let s: Stats;
    try {
      // The cluster view: every live node's counters summed, the cluster's busiest topics.
      s = await this.#api.get<Stats>($<HTMLInputElement>('scope-cluster').checked ? '/stats?top=10&scope=cluster' : '/stats?top=10');
    } catch (err) {
      $('status').textContent = `stats unavailable: ${(err as Error).message}`;
      return;
    }
    $('status').textContent = '';
    this.#render(s);
  }

  #render(s: Stats): void {
    const prev = this.#last;
    this.#last = s;
    const nodes = (s as Stats & { nodes?: string[] }).nodes;
    $('node').textContent = nodes ? `cluster of ${nodes.length} node${nodes.length === 1 ? '' : 's'} (${nodes.join(', ')})` : `node ${s.node} · up ${formatUptime(s.uptime_s)}`;
    $('topics-scope').textContent = nodes ? 'by subscribers on every node' : 'by subscribers on this node';
    const engine = $('engine');
    engine.textContent = `${s.engine.name} ${s.engine.up ? 'up' : 'down'}`;
    engine.className = `badge ${s.engine.up ? 'ok' : 'bad'}`;

    $('c-connections').textContent = num(s.connections.total);
    $('c-protocols').textContent = `plain ${num(s.connections.plain)} · v1 ${num(s.connections['herald.v1'])} · sse ${num(s.connections.sse ?? 0)}`;
    $('c-publishes').textContent = num(s.publishes);
    $('c-deliveries').textContent = num(s.deliveries);
    $('c-registrations').textContent = num(s.registrations);
    $('c-topics').textContent = num(s.topics);
    $('c-history').textContent = s.history ? `history: ${num(s.history.messages)} msgs, ${formatBytes(s.history.bytes)}` : 'history unavailable';
    const drops = Object.values(s.drops).reduce((a, b) => a + b, 0);
    $('c-drops').textContent = num(drops);
    $('c-drop-reasons').textContent = Object.entries(s.drops).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${num(n)}`).join(' · ') || 'none';

    // Behind a load balancer, refreshes may reach other nodes: their counters are not comparable.
    if (prev && prev.node === s.node) {
      const dt = Math.max(0.001, (s.ts - prev.ts) / 1000);
      const pub = Math.max(0, s.publishes - prev.publishes) / dt;
      const del = Math.max(0, s.deliveries - prev.deliveries) / dt;
      $('c-publish-rate').textContent = `${num(pub)} / s`;
      $('c-delivery-rate').textContent = `${num(del)} / s`;
      push(this.#rates.pub, pub);
      push(this.#rates.del, del);
    }
    push(this.#rates.conn, s.connections.total);
    drawChart($<SVGSVGElement>('chart-rate'), [{ className: 'pub', values: this.#rates.pub }, { className: 'del', values: this.#rates.del }], WINDOW, (v) => num(v));
    drawChart($<SVGSVGElement>('chart-connections'), [{ className: 'conn', values: this.#rates.conn }], WINDOW, (v) => num(v));
    this.#renderTopics(s.top_topics);
  }

  #renderTopics(top: Stats['top_topics']): void {
    const body = $('topics').querySelector('tbody')!;
    if (top.length === 0) {
      body.replaceChildren(h('tr', {}, h('td', { className: 'muted', text: 'no topic has subscribers yet' }), h('td')));
      return;
    }
    body.replaceChildren(
      ...top.map((t) => {
        const tr = h('tr', { title: `tap ${t.topic}` }, h('td', { className: 'mono', text: t.topic }), h('td', { className: 'num', text: num(t.subscribers) }));
        tr.addEventListener('click', () => this.#onTopic(t.topic));
        return tr;
      }),
    );
  }
}

function push(a: number[], v: number): void {
  a.push(v);
  if (a.length > WINDOW) a.shift();
}

function formatUptime(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

function formatBytes(b: number): string {
  if (b < 1024) return `${b} B`;
  if (b < 1024 ** 2) return `${num(b / 1024)} KiB`;
  return `${num(b / 1024 ** 2)} MiB`;
}
