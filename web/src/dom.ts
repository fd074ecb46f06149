// Tiny DOM helpers: the page is small enough not to need a framework.

export function $<T extends Element = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as unknown as T;
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: { className?: string; text?: string; title?: string } = {}, ...children: Node[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.className) el.className = props.className;
  if (props.text !== undefined) el.textContent = props.text;
  if (props.title !== undefined) el.title = props.title;
  el.append(...children);
  return el;
}

const fmt = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
export const num = (n: number): string => fmt.format(n);

export const time = (ts: number): string => new Date(ts).toLocaleTimeString('en-GB', { hour12: false });

/** Prepends a line to a log list, keeping at most `max` lines. */
export function logLine(list: HTMLElement, parts: Array<[string, string]>, max = 200): void {
  const li = h('li');
  for (const [className, text] of parts) li.append(h('span', { className, text }));
  list.prepend(li);
  while (list.children.length > max) list.lastElementChild?.remove();
}

/** A short, readable preview of a message body. */
export function preview(m: { data?: unknown; binary?: Uint8Array }): string {
  if (m.binary) return `(binary, ${m.binary.length} bytes)`;
  const s = typeof m.data === 'string' ? m.data : JSON.stringify(m.data);
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}

export const topicList = (raw: string): string[] => [...new Set(raw.split(',').map((t) => t.trim()).filter((t) => t.length > 0))];
