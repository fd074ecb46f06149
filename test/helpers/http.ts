// Small JSON-over-HTTP helpers for tests.
export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
}

export async function request<T = Record<string, unknown>>(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof Uint8Array ? (body as string) : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const r = await fetch(base + path, init);
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // keep the text
  }
  return { status: r.status, body: parsed as T, headers: r.headers };
}

export interface Registered {
  url: string;
  id: string;
  topics: string[];
}

export async function register(base: string, userId: number | string, topics?: string[], headers: Record<string, string> = {}): Promise<Registered> {
  const r = await request<Registered>(base, 'POST', '/register', topics ? { user_id: userId, topics } : { user_id: userId }, headers);
  if (r.status !== 200) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function publish(base: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ id: string; offset: number }> {
  const r = await request<{ id: string; offset: number }>(base, 'POST', '/publish', body, headers);
  if (r.status !== 200) throw new Error(`publish failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
