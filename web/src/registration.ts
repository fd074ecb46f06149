// A registration made by the dashboard, and its herald.v1 connection through the client SDK.
import { HeraldClient } from '../../client/index.js';
import type { Api } from './api.js';

export interface Registered {
  url: string;
  id: string;
  topics: string[];
}

/** POST /register; the URL the server returns is the client's credential. */
export function register(api: Api, userId: string | number, topics: string[]): Promise<Registered> {
  return api.post<Registered>('/register', { user_id: userId, topics });
}

/** DELETE /register/:id; on page exit `keepalive` lets it finish after the page is gone. */
export function unregister(api: Api, id: string, keepalive = false): Promise<unknown> {
  return api.delete(`/register/${encodeURIComponent(id)}`, keepalive);
}

/** A connected client for a registration. */
export async function connect(reg: Registered): Promise<HeraldClient> {
  const client = new HeraldClient(reg.url, { backoff: { minMs: 500, maxMs: 5000 } });
  await client.connect();
  return client;
}

/** A user id that is this page's own, so reloads never pile up on one user's registration limit. */
export const pageUser = (role: string): string => `dashboard-${role}-${Math.random().toString(36).slice(2, 10)}`;
