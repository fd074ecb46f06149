// A hand-rolled SVG line chart: a fixed window of samples, autoscaled, redrawn each tick.

const NS = 'http://www.w3.org/2000/svg';
const W = 600;
const H = 160;
const PAD = { top: 10, right: 8, bottom: 16, left: 44 };

export interface Series {
  className: string;
  values: number[];
}

function el(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A round upper bound for the y axis: 1, 2, 5, 10, 20, 50... */
function niceMax(v: number): number {
  if (v <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/** Draws `series` (same length, oldest first) over `capacity` slots; the newest is at the right. */
export function drawChart(svg: SVGSVGElement, series: Series[], capacity: number, label: (v: number) => string): void {
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const x = (i: number, n: number): number => PAD.left + iw - ((n - 1 - i) * iw) / Math.max(1, capacity - 1);
  const y = (v: number): number => PAD.top + ih - (v / max) * ih;
  const parts: SVGElement[] = [];
  for (const f of [0, 0.5, 1]) {
    const v = max * f;
    parts.push(el('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }));
    parts.push(el('text', { class: 'axis', x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, label(v)));
  }
  parts.push(el('text', { class: 'axis', x: PAD.left, y: H - 2 }, `${capacity} s ago`));
  parts.push(el('text', { class: 'axis', x: W - PAD.right, y: H - 2, 'text-anchor': 'end' }, 'now'));
  for (const s of series) {
    if (s.values.length === 0) continue;
    const points = s.values.map((v, i) => `${x(i, s.values.length).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    parts.push(el('polyline', { class: s.className, points }));
  }
  svg.replaceChildren(...parts);
}
