// The load generator's side of the reconnect storm: N clients (SDK or raw), each holding one
// room, a steady publisher, and the ledger that checks every confirmed message reached every
// client of its room once and in order. One command at a time, from bench/storm.ts over IPC.
import { SignJWT } from 'jose';
import { wsSocketFactory, type SocketFactory } from '../client/index.js';
import { openConnections, runRequests } from './raw-http-client.js';
import { RawStormClient } from './storm-raw-client.js';
import { SdkStormClient } from './storm-sdk-client.js';
import { StormLedger } from './storm-ledger.js';
import { StormPublisher } from './storm-publisher.js';
import type { StormEvents, StormMember } from './storm-member.js';
import type { StormAwaitCommand, StormAwaitResult, StormCommand, StormResult, StormSettleCommand, StormSettleResult, StormSetupCommand } from './storm-protocol.js';

/** CLOCK_MONOTONIC in ms: the same clock in every process (bench/storm.ts reads it too). */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class StormFleet {
  readonly #host: string;
  readonly #port: number;
  #members: StormMember[] = [];
  #ledger: StormLedger | null = null;
  #publisher: StormPublisher | null = null;
  #rooms = 0;
  #recoveredAt = new Float64Array(0);
  #welcomeAt = new Float64Array(0);
  #welcomes: number[] = [];
  #waiters = new Map<number, () => void>();
  #attempts = 0;
  #refused503 = 0;
  #refusedOther = 0;
  #failedTcp = 0;
  #drops = 0;
  #gaveUp: Record<string, number> = {};

  constructor(host: string, port: number) {
    this.#host = host;
    this.#port = port;
  }

  readonly #events: StormEvents = {
    attempt: () => void this.#attempts++,
    refused: (_m, status) => void (status === 503 ? this.#refused503++ : this.#refusedOther++),
    failedTcp: () => void this.#failedTcp++,
    drop: () => void this.#drops++,
    welcome: (m) => {
      const now = monoMs();
      this.#welcomeAt[m.index] = now;
      this.#welcomes.push(now);
      const waiter = this.#waiters.get(m.index);
      this.#waiters.delete(m.index);
      waiter?.();
    },
    data: (m, body) => this.#ledger?.receive(m.index, body),
    recovered: (m) => void (this.#recoveredAt[m.index] = monoMs()),
    gaveUp: (_m, code) => void (this.#gaveUp[String(code)] = (this.#gaveUp[String(code)] ?? 0) + 1),
  };

  async handle(cmd: StormCommand): Promise<StormResult> {
    switch (cmd.type) {
      case 'storm-setup':
        return { type: 'storm-setup', result: await this.#setup(cmd) };
      case 'storm-publish': {
        if (this.#ledger === null) throw new Error('storm-publish before storm-setup');
        await this.#publisher?.stop();
        this.#publisher = new StormPublisher(this.#host, this.#port, this.#ledger, this.#rooms, cmd);
        this.#publisher.start();
        return { type: 'storm-ok' };
      }
      case 'storm-ready':
        await this.#until('every client to receive a message', cmd.deadlineMs, () => this.#members.every((m) => this.#ledger?.hasReceived(m.index) === true));
        return { type: 'storm-ok' };
      case 'storm-arm':
        this.#attempts = this.#refused503 = this.#refusedOther = this.#failedTcp = this.#drops = 0;
        this.#welcomes = [];
        this.#gaveUp = {};
        this.#recoveredAt.fill(0);
        return { type: 'storm-ok' };
      case 'storm-await':
        return { type: 'storm-await', result: await this.#await(cmd) };
      case 'storm-settle':
        return { type: 'storm-settle', result: await this.#settle(cmd) };
    }
  }

  close(): void {
    void this.#publisher?.stop();
    this.#publisher = null;
    for (const m of this.#members) m.close();
    this.#members = [];
  }

  async #setup(cmd: StormSetupCommand): Promise<{ connected: number; durationMs: number }> {
    const started = performance.now();
    this.close();
    this.#rooms = cmd.rooms;
    this.#ledger = new StormLedger(cmd.clients, cmd.rooms);
    this.#recoveredAt = new Float64Array(cmd.clients);
    this.#welcomeAt = new Float64Array(cmd.clients);
    const topic = (i: number): string => `room.${i % cmd.rooms}`;
    const paths = cmd.tokenSecret !== undefined ? await this.#tokens(cmd.clients, cmd.tokenSecret, topic) : await this.#register(cmd.clients, topic, cmd.deadlineMs);
    const factories: SocketFactory[] = [];
    for (let a = 0; a < cmd.sourceAddresses; a++) factories.push(await wsSocketFactory({ localAddress: `127.0.0.${2 + a}` }));
    const base = `ws://${this.#host}:${this.#port}`;
    this.#members = paths.map((path, i) => {
      if (cmd.kind === 'raw') {
        return new RawStormClient(i, { host: this.#host, port: this.#port, path, topic: topic(i), localAddress: `127.0.0.${2 + (i % cmd.sourceAddresses)}` }, this.#events);
      }
      const factory = factories[i % factories.length] as SocketFactory;
      // Token mode: the token endpoint plus getToken (the same token every time: it is valid for the whole run).
      const token = path.startsWith('/ws?token=') ? decodeURIComponent(path.slice('/ws?token='.length)) : undefined;
      const target = token === undefined ? `${base}${path}` : { url: `${base}/ws`, getToken: () => token };
      return new SdkStormClient(i, target, topic(i), factory, this.#events);
    });
    // Connect `concurrency` at a time, each lane waiting for its client's welcome.
    let next = 0;
    const deadline = performance.now() + cmd.deadlineMs;
    const lane = async (): Promise<void> => {
      while (next < this.#members.length) {
        const member = this.#members[next++] as StormMember;
        const welcomed = new Promise<void>((resolve) => this.#waiters.set(member.index, resolve));
        member.start();
        const left = deadline - performance.now();
        if (left <= 0 || !(await Promise.race([welcomed.then(() => true), sleep(left).then(() => false)]))) {
          throw new Error(`setup: not every client connected within ${cmd.deadlineMs} ms`);
        }
      }
    };
    await Promise.all(Array.from({ length: cmd.concurrency }, lane));
    return { connected: this.#members.filter((m) => m.connected).length, durationMs: performance.now() - started };
  }

  /** Memory engine: one token per client, valid for the run; the path carries it (never logged). */
  async #tokens(count: number, secret: string, topic: (i: number) => string): Promise<string[]> {
    const key = new TextEncoder().encode(secret);
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const jwt = await new SignJWT({ topics: [topic(i)] }).setProtectedHeader({ alg: 'HS256' }).setSubject(String(i)).setIssuedAt().setExpirationTime(exp).sign(key);
      out.push(`/ws?token=${encodeURIComponent(jwt)}`);
    }
    return out;
  }

  /** Redis engine: registrations (they, their cursors and history outlive the node). A 503 (overloaded) is asked again a second later. */
  async #register(count: number, topic: (i: number) => string, deadlineMs: number): Promise<string[]> {
    const out: string[] = new Array<string>(count);
    let todo = Array.from({ length: count }, (_v, i) => i);
    const deadline = performance.now() + deadlineMs;
    while (todo.length > 0) {
      if (performance.now() > deadline) throw new Error(`setup: ${todo.length} registrations still refused after ${deadlineMs} ms`);
      const busy: number[] = [];
      const connections = await openConnections(this.#host, this.#port, 16);
      try {
        await runRequests(
          connections,
          todo.length,
          (k) => ({ method: 'POST', path: '/register', body: `{"user_id":${todo[k]},"topics":["${topic(todo[k] as number)}"]}` }),
          (k, res) => {
            const i = todo[k] as number;
            if (res.status === 503) busy.push(i);
            else if (res.status !== 200) throw new Error(`POST /register answered ${res.status}`);
            else out[i] = `/ws/${(JSON.parse(res.body.toString('utf8')) as { id: string }).id}`;
          },
        );
      } finally {
        for (const c of connections) c.close();
      }
      todo = busy;
      if (todo.length > 0) await sleep(1000);
    }
    return out;
  }

  async #await(cmd: StormAwaitCommand): Promise<StormAwaitResult> {
    this.#ledger?.markNodeGone();
    const back = (m: StormMember): boolean => m.connected && (this.#recoveredAt[m.index] as number) >= cmd.afterMonoMs;
    const deadline = performance.now() + cmd.deadlineMs;
    // A client that stopped for good will not come back: no use waiting for it.
    while (performance.now() < deadline && !this.#members.every((m) => back(m) || m.gone)) await sleep(20);
    const recoveredAt = this.#members.filter(back).map((m) => this.#recoveredAt[m.index] as number).sort((a, b) => a - b);
    return {
      recoveredAt,
      notRecovered: this.#members.length - recoveredAt.length,
      reconnects: this.#welcomes.filter((t) => t >= cmd.afterMonoMs).length,
      attempts: this.#attempts,
      refused503: this.#refused503,
      refusedOther: this.#refusedOther,
      failedTcp: this.#failedTcp,
      drops: this.#drops,
      gaveUp: { ...this.#gaveUp },
    };
  }

  async #settle(cmd: StormSettleCommand): Promise<StormSettleResult> {
    const ledger = this.#ledger;
    if (ledger === null) throw new Error('storm-settle before storm-setup');
    await this.#publisher?.stop();
    this.#publisher = null;
    // Until everything confirmed arrived, or nothing more arrived for idleTimeoutMs.
    const deadline = performance.now() + cmd.deadlineMs;
    let last = ledger.missing();
    let lastChange = performance.now();
    while (last > 0 && performance.now() < deadline && performance.now() - lastChange < cmd.idleTimeoutMs) {
      await sleep(200);
      const now = ledger.missing();
      if (now !== last) lastChange = performance.now();
      last = now;
    }
    return ledger.settle();
  }

  async #until(what: string, deadlineMs: number, check: () => boolean): Promise<void> {
    const deadline = performance.now() + deadlineMs;
    while (!check()) {
      if (performance.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
      await sleep(50);
    }
  }
}
