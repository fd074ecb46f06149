// A FaultProxy in a process of its own, driven over IPC. The chaos run's clients share one
// event loop; a proxy in that loop would stall Redis traffic whenever thousands of clients
// reconnect at once, and the nodes would see a Redis fault the run never injected.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stopChild } from '../servers.js';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';

type Command = { readonly op: 'cut' | 'stall' | 'resume' };
type Reply = { readonly port: number } | { readonly done: number };

/** The parent's handle: the same operations, each awaited until the child did it. */
export interface RemoteFaultProxy {
  readonly port: number;
  readonly pid: number;
  cut(): Promise<number>;
  stall(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxyProcess(targetPort: number): Promise<RemoteFaultProxy> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [String(targetPort)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const next = (): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`fault proxy exited with ${code ?? '?'}`));
      child.once('exit', onExit);
      child.once('message', (m: Reply) => {
        child.off('exit', onExit);
        resolve(m);
      });
    });
  const first = await next();
  if (!('port' in first) || child.pid === undefined) throw new Error('fault proxy did not start');
  const send = async (op: Command['op']): Promise<number> => {
    const reply = next();
    child.send({ op } satisfies Command);
    const r = await reply;
    return 'done' in r ? r.done : 0;
  };
  return {
    port: first.port,
    pid: child.pid,
    cut: () => send('cut'),
    stall: async () => void (await send('stall')),
    resume: async () => void (await send('resume')),
    close: () => stopChild(child, 2000),
  };
}

// The child: node proxy-process.js TARGET_PORT
if (process.send !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  const proxy: FaultProxy = await startFaultProxy(Number(process.argv[2]));
  process.on('message', (m: Command) => {
    let done = 0;
    if (m.op === 'cut') done = proxy.cut();
    else if (m.op === 'stall') proxy.stall();
    else proxy.resume();
    process.send?.({ done } satisfies Reply);
  });
  process.once('disconnect', () => process.exit(0));
  process.send({ port: proxy.port } satisfies Reply);
}
