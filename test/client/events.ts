// Awaiting events with a deadline, so a test fails with a message instead of hanging.
import type { ConnectionState, HeraldClient, StateChange } from '../../client/index.js';

export function waitFor<T>(what: string, timeoutMs: number, arm: (done: (value: T) => void) => () => void): Promise<T> {
  return new Promise((resolve, reject) => {
    let disarm: (() => void) | undefined;
    const timer = setTimeout(() => {
      disarm?.();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    disarm = arm((value) => {
      clearTimeout(timer);
      disarm?.();
      resolve(value);
    });
  });
}

export function waitForState(client: HeraldClient, state: ConnectionState, timeoutMs = 5000): Promise<StateChange> {
  return waitFor(`state ${state}`, timeoutMs, (done) =>
    client.on('state', (change) => {
      if (change.state === state) done(change);
    }),
  );
}
