// The dashboard's HTTP calls. The API key, when the server has one, goes in a Bearer header;
// it reaches the page once as `?key=` and lives in sessionStorage (this tab only) after that.

const STORAGE = 'herald.key';

/** Moves `?key=` from the address bar into sessionStorage; returns the key to use, if any. */
export function takeKey(): string | undefined {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('key');
  if (fromUrl !== null) {
    sessionStorage.setItem(STORAGE, fromUrl);
    url.searchParams.delete('key');
    // Out of the address bar, the history and bookmarks.
    history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem(STORAGE) ?? undefined;
}

export function storedKey(): string | undefined {
  return sessionStorage.getItem(STORAGE) ?? undefined;
}

export function forgetKey(): void {
  sessionStorage.removeItem(STORAGE);
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export class Api {
  readonly #key: string | undefined;
  /** Called on 401: the key is gone or changed. */
  onUnauthorized: () => void = () => {};

  constructor(key: string | undefined) {
    this.#key = key;
  }

  get<T>(path: string): Promise<T> {
    return this.#call<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.#call<T>('POST', path, body);
  }

  delete<T>(path: string, keepalive = false): Promise<T> {
    return this.#call<T>('DELETE', path, undefined, keepalive);
  }

  async #call<T>(method: string, path: string, body?: unknown, keepalive = false): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.#key !== undefined) headers.authorization = `Bearer ${this.#key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), keepalive, cache: 'no-store' });
    const text = await r.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!r.ok) {
      if (r.status === 401) this.onUnauthorized();
      const e = (parsed ?? {}) as { error?: string; message?: string };
      throw new ApiError(r.status, e.error ?? 'http_error', e.message ?? `${method} ${path}: HTTP ${r.status}`);
    }
    return parsed as T;
  }
}
