// A WebSocket upgrade the server refuses: its HTTP status and JSON error body.
import { WebSocket } from 'ws';

export function refusal(url: string, protocols?: string | string[]): Promise<{ status: number; body: { error: string; message?: string } }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    const timer = setTimeout(() => reject(new Error('no answer within 3 s')), 3000);
    ws.once('open', () => {
      clearTimeout(timer);
      ws.close();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as { error: string; message?: string } });
      });
    });
    ws.once('error', () => {});
  });
}
