// One contract for every engine: the same tests, given a factory, run against the memory
// engine, the redis engine and the redis engine on a Redis Cluster. A "space" names one shared
// backend: engines made with the same space are nodes of one deployment.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Message, PublishInput } from '../../src/core/message.js';
import type { ControlEvent } from '../../src/engines/broker.js';
import type { Engine } from '../../src/engines/engine.js';
import type { Registration, RegistrationLimits } from '../../src/engines/registry.js';
import type { WebhookEvent } from '../../src/engines/webhooks.js';
import { HeraldError } from '../../src/errors.js';
import { waitFor } from '../helpers/wait.js';

export { waitFor };

export interface ContractConfig {
  registrationTtlMs: number;
  historySize: number;
  historyTtlMs: number;
  presenceTtlMs: number;
  nodeId: string;
  /** Set: the engine queues webhook events (the URL itself is not used by the engine). */
  webhookUrl?: string;
  webhookMaxPending?: number;
}

export type EngineFactory = (config: ContractConfig, space: string) => Promise<Engine>;

export interface ContractOptions {
  /** Engines of one space share state (false for memory: each engine is its own world). */
  multiNode: boolean;
}

export const contractConfig: Omit<ContractConfig, 'nodeId'> = { registrationTtlMs: 300, historySize: 5, historyTtlMs: 600, presenceTtlMs: 1500 };

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every message an engine delivers, with a way to await the next ones. */
export class Inbox {
  readonly messages: Message[] = [];

  constructor(engine: Engine) {
    engine.broker.onMessage((m) => this.messages.push(m));
  }

  of(topic: string): Message[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  async wait(topic: string, count: number, timeoutMs = 3_000): Promise<Message[]> {
    await waitFor(`${count} messages on ${topic} (have ${this.of(topic).length})`, () => this.of(topic).length >= count, timeoutMs);
    return this.of(topic);
  }
}

/** Messages and join/leave events of one engine, in the order it delivered them. */
export class Timeline {
  readonly items: string[] = [];

  constructor(engine: Engine) {
    engine.broker.onMessage((m) => this.items.push(`${m.topic} ${m.body}`));
    engine.presence.onEvent((e) => {
      for (const u of e.joined) this.items.push(`${e.topic} +${u}`);
      for (const u of e.left) this.items.push(`${e.topic} -${u}`);
    });
  }

  of(topic: string): string[] {
    return this.items.filter((i) => i.startsWith(`${topic} `)).map((i) => i.slice(topic.length + 1));
  }

  async wait(topic: string, count: number, timeoutMs = 3_000): Promise<string[]> {
    await waitFor(`${count} items on ${topic} (have ${JSON.stringify(this.of(topic))})`, () => this.of(topic).length >= count, timeoutMs);
    return this.of(topic);
  }
}

const byUser = (a: { user: string }, b: { user: string }): number => (a.user < b.user ? -1 : a.user > b.user ? 1 : 0);

const text = (topic: string, body: string, userId?: number | string): PublishInput => ({ topic, kind: 'text', body, userId });

function registration(userId: number | string, topics = ['news']): Registration {
  return { id: randomBytes(16).toString('hex'), userId, topics, grants: [], cursors: {}, createdAt: Date.now() };
}

/** Registration limits: `perUser` as given, no total limit unless given. */
const lim = (perUser: number, total = 1_000_000): RegistrationLimits => ({ perUser, total });

export function engineContract(name: string, factory: EngineFactory, options: ContractOptions): void {
  describe(`engine contract: ${name}`, () => {
    let space = '';
    let engines: Engine[] = [];
    const node = async (overrides: Partial<ContractConfig> = {}): Promise<Engine> => {
      const e = await factory({ ...contractConfig, nodeId: `n${engines.length}`, ...overrides }, space);
      engines.push(e);
      return e;
    };
    // Tests about several nodes sharing state exist only for engines that can be shared;
    // a memory engine is one node by definition, so they are not registered for it.
    const itMulti: typeof it = options.multiNode ? it : ((() => undefined) as unknown as typeof it);

    beforeEach(() => {
      space = randomBytes(4).toString('hex');
      engines = [];
    });
    afterEach(async () => {
      await Promise.all(engines.map((e) => e.close()));
    });

    describe('registry', () => {
      it('stores a registration and returns it as it was, user id type included', async () => {
        const e = await node();
        const reg = { ...registration(42, ['a', 'b']), cursors: { a: { offset: 3, epoch: 'E1' } } };
        await e.registry.create(reg, lim(10));
        assert.deepEqual(await e.registry.get(reg.id), reg);
        const named = registration('alice');
        await e.registry.create(named, lim(10));
        assert.equal((await e.registry.get(named.id))?.userId, 'alice');
        assert.equal(await e.registry.get('no-such-id'), undefined);
      });

      it('deletes: true once, then false, and the registration is gone', async () => {
        const e = await node();
        const reg = registration(1);
        await e.registry.create(reg, lim(10));
        assert.equal(await e.registry.delete(reg.id), true);
        assert.equal(await e.registry.delete(reg.id), false);
        assert.equal(await e.registry.get(reg.id), undefined);
      });

      it('keeps what the client holds apart from its topics; updates cursors; never recreates a deleted registration', async () => {
        const e = await node();
        const reg = registration(1);
        await e.registry.create(reg, lim(10));
        assert.equal((await e.registry.get(reg.id))?.held, undefined, 'nothing held before the client changes it');
        await e.registry.setHeld(reg.id, ['x', 'y']);
        await e.registry.saveCursors(reg.id, { x: { offset: 7, epoch: 'E' } });
        const got = await e.registry.get(reg.id);
        assert.deepEqual(got?.held, ['x', 'y']);
        assert.deepEqual(got?.topics, ['news'], "the client's own changes leave the backend's topics alone");
        assert.deepEqual(got?.cursors, { x: { offset: 7, epoch: 'E' } });
        await e.registry.delete(reg.id);
        await e.registry.setHeld(reg.id, ['z']);
        await e.registry.saveCursors(reg.id, {});
        await e.registry.markConnected(reg.id);
        assert.equal(await e.registry.get(reg.id), undefined);
      });

      it('saves many registrations\' cursors at once, one result per entry, in order', async () => {
        const e = await node();
        const regs = [registration(1), registration(2), registration(3)];
        for (const r of regs) await e.registry.create(r, lim(10));
        const entries = regs.map((r, i) => ({ id: r.id, cursors: { [`t${i}`]: { offset: i + 1, epoch: `E${i}` } } }));
        // An id that is not (or no longer) registered is not an error, and is not created.
        const results = await e.registry.saveManyCursors([...entries, { id: 'gone', cursors: { t: { offset: 9, epoch: 'E' } } }]);
        assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
        for (const [i, r] of regs.entries()) assert.deepEqual((await e.registry.get(r.id))?.cursors, entries[i]!.cursors);
        assert.equal(await e.registry.get('gone'), undefined);
      });

      it('expires a registration left unconnected for the TTL', async () => {
        const e = await node();
        const reg = registration(1);
        await e.registry.create(reg, lim(10));
        await waitFor('the registration to expire', async () => (await e.registry.get(reg.id)) === undefined);
      });

      it('keeps a connected registration past the TTL; the TTL restarts on disconnect', async () => {
        const e = await node();
        const reg = registration(1);
        await e.registry.create(reg, lim(10));
        await e.registry.markConnected(reg.id);
        await pause(contractConfig.registrationTtlMs * 2);
        assert.equal((await e.registry.get(reg.id))?.id, reg.id, 'a connected registration must not expire');
        await e.registry.markDisconnected(reg.id);
        assert.equal((await e.registry.get(reg.id))?.id, reg.id, 'it lives on for the TTL after a disconnect');
        await waitFor('the disconnected registration to expire', async () => (await e.registry.get(reg.id)) === undefined);
      });

      it('per user (7 and "7" are one user): at the limit evicts the least recently connected unconnected one; 429 only when all are connected', async () => {
        const e = await node({ registrationTtlMs: 60_000 });
        const a = registration(7);
        const b = registration('7');
        const c = registration(7);
        await e.registry.create(a, lim(2));
        await e.registry.create(b, lim(2));
        await e.registry.markConnected(a.id);
        await e.registry.markDisconnected(a.id); // a was seen after b
        assert.deepEqual(await e.registry.create(c, lim(2)), { evicted: b.id });
        assert.equal(await e.registry.get(b.id), undefined, 'the evicted registration is gone');
        await e.registry.create(registration(8), lim(2)); // another user is not affected
        await e.registry.markConnected(a.id);
        await e.registry.markConnected(c.id);
        await assert.rejects(e.registry.create(registration('7'), lim(2)), (err: unknown) => err instanceof HeraldError && err.code === 'too_many_registrations');
        assert.ok(await e.registry.get(a.id));
        assert.ok(await e.registry.get(c.id));
        await e.registry.delete(a.id);
        const d = registration(7);
        assert.deepEqual(await e.registry.create(d, lim(2)), {}, 'a deleted registration frees its place');
        await e.registry.markDisconnected(c.id);
        assert.deepEqual(await e.registry.create(registration(7), lim(2)), { evicted: d.id }, 'never connected, created before c disconnected');
      });

      it('expiry frees a user\'s places', async () => {
        const e = await node();
        const a = registration(7);
        await e.registry.create(a, lim(1));
        await waitFor('the registration to expire', async () => (await e.registry.get(a.id)) === undefined);
        assert.deepEqual(await e.registry.create(registration(7), lim(1)), {});
      });

      it('refuses past the total limit with registrations_full (eviction within a user still works)', async () => {
        const e = await node({ registrationTtlMs: 60_000 });
        await e.registry.create(registration(1), lim(1, 2));
        const b = registration(2);
        await e.registry.create(b, lim(1, 2));
        await assert.rejects(e.registry.create(registration(3), lim(1, 2)), (err: unknown) => err instanceof HeraldError && err.code === 'registrations_full');
        assert.deepEqual(await e.registry.create(registration(2), lim(1, 2)), { evicted: b.id });
        assert.equal(await e.registry.count(), 2);
      });

      it('deletes every registration of a user; revocations are kept for their TTL', async () => {
        const e = await node({ registrationTtlMs: 60_000 });
        const a = registration(21);
        const b = registration('21');
        const other = registration(22);
        for (const r of [a, b, other]) await e.registry.create(r, lim(10));
        await e.registry.markConnected(a.id);
        assert.deepEqual((await e.registry.deleteUser('21')).sort(), [a.id, b.id].sort());
        assert.equal(await e.registry.get(a.id), undefined);
        assert.equal(await e.registry.get(b.id), undefined);
        assert.ok(await e.registry.get(other.id));
        assert.deepEqual(await e.registry.deleteUser('21'), []);
        assert.deepEqual(await e.registry.create(registration(21), lim(1)), {}, 'the user starts again with free places');
        assert.equal(await e.registry.revokedAt('21'), undefined);
        await e.registry.revokeUser('21', 1_700_000_000, 300);
        assert.equal(await e.registry.revokedAt('21'), 1_700_000_000);
        assert.equal(await e.registry.revokedAt('22'), undefined);
        await waitFor('the revocation to expire', async () => (await e.registry.revokedAt('21')) === undefined);
      });

      it('updates topics, grants and held at once; undefined for an unknown id', async () => {
        const e = await node();
        const reg = registration(1, ['a']);
        await e.registry.create(reg, lim(10));
        const got = await e.registry.update(reg.id, { grants: ['team.*'], held: ['a', 'team.1'] });
        assert.deepEqual(got, { ...reg, grants: ['team.*'], held: ['a', 'team.1'] });
        assert.deepEqual(await e.registry.get(reg.id), got);
        const again = await e.registry.update(reg.id, { topics: ['b'] });
        assert.deepEqual(again?.topics, ['b']);
        assert.deepEqual(again?.grants, ['team.*'], 'an absent list stays');
        assert.equal(await e.registry.update('no-such-id', { topics: ['x'] }), undefined);
        assert.equal(await e.registry.get('no-such-id'), undefined, 'update never creates');
      });

      it('stores copies: what get() returns or was given can change without touching what is stored', async () => {
        const e = await node({ registrationTtlMs: 60_000 });
        const topics = ['a', 'b'];
        const reg = registration(5, topics);
        const quiet = registration(6);
        await e.registry.create(reg, lim(10));
        await e.registry.create(quiet, lim(10));
        topics.push('given-then-changed');
        const held = ['a', 'b'];
        await e.registry.setHeld(reg.id, held);
        held.push('given-then-changed');
        await e.registry.setHeld(reg.id, ['a', 'b']); // stored again, unchanged
        const got = (await e.registry.get(reg.id))!;
        got.topics.push('x');
        got.grants.push('y');
        got.held!.push('z');
        got.cursors.t = { offset: 1, epoch: 'E' };
        const again = (await e.registry.get(reg.id))!;
        assert.deepEqual([again.topics, again.grants, again.held, again.cursors], [['a', 'b'], [], ['a', 'b'], {}]);
        await e.registry.update(reg.id, { topics: ['c'], grants: ['g.*'] });
        await e.registry.saveCursors(reg.id, { c: { offset: 2, epoch: 'E' } });
        const changed = (await e.registry.get(reg.id))!;
        assert.deepEqual([changed.topics, changed.grants, changed.held, changed.cursors], [['c'], ['g.*'], ['a', 'b'], { c: { offset: 2, epoch: 'E' } }], 'held stays apart from the topics it equalled');
        const other = (await e.registry.get(quiet.id))!;
        assert.deepEqual([other.topics, other.grants, other.held, other.cursors], [['news'], [], undefined, {}], 'another registration is untouched');
      });

      it('a user down to one registration again is still counted at the limit', async () => {
        const e = await node({ registrationTtlMs: 60_000 });
        const a = registration(9);
        const b = registration(9);
        await e.registry.create(a, lim(2));
        await e.registry.create(b, lim(2));
        await e.registry.delete(a.id);
        await e.registry.markConnected(b.id);
        await assert.rejects(e.registry.create(registration(9), lim(1)), (err: unknown) => err instanceof HeraldError && err.code === 'too_many_registrations');
        const c = registration(9);
        assert.deepEqual(await e.registry.create(c, lim(2)), {}, 'one place was free');
        await e.registry.markDisconnected(b.id);
        assert.deepEqual(await e.registry.create(registration(9), lim(2)), { evicted: c.id }, 'c was seen before b disconnected');
        assert.equal((await e.registry.deleteUser('9')).length, 2);
        assert.deepEqual(await e.registry.create(registration(9), lim(1)), {}, 'every place is free again');
      });

      it('counts registrations', async () => {
        const e = await node({ registrationTtlMs: 60_000 });
        const regs = [registration(1), registration(2), registration(3)];
        for (const r of regs) await e.registry.create(r, lim(10));
        assert.equal(await e.registry.count(), 3);
        await e.registry.delete(regs[0]!.id);
        assert.equal(await e.registry.count(), 2);
      });

      itMulti('shares registrations between nodes: register on A, connect on B, delete on C', async () => {
        const [a, b, c] = [await node(), await node(), await node()];
        const reg = registration(5, ['t']);
        await a.registry.create(reg, lim(10));
        assert.deepEqual(await b.registry.get(reg.id), reg);
        await b.registry.markConnected(reg.id);
        await pause(contractConfig.registrationTtlMs * 2);
        assert.equal(await c.registry.delete(reg.id), true);
        assert.equal(await a.registry.get(reg.id), undefined);
        const again = registration(5);
        await a.registry.create(again, lim(10));
        await a.registry.markConnected(again.id);
        await assert.rejects(b.registry.create(registration(5), lim(1)), HeraldError, 'the per-user limit holds across nodes while connected');
      });
    });

    describe('broker and history', () => {
      it('assigns offsets 1, 2, 3 per topic under one epoch', async () => {
        const e = await node();
        const a1 = await e.broker.publish(text('a', 'one', 9));
        const a2 = await e.broker.publish(text('a', 'two'));
        const b1 = await e.broker.publish({ topic: 'b', kind: 'json', body: '{"x":1}' });
        const a3 = await e.broker.publish({ topic: 'a', kind: 'binary', body: 'AAEC' });
        assert.deepEqual([a1.offset, a2.offset, a3.offset, b1.offset], [1, 2, 3, 1]);
        assert.equal(a1.epoch, a3.epoch);
        assert.notEqual(a1.id, a2.id);
        assert.equal(a1.userId, 9);
        assert.equal(a2.userId, undefined);
        assert.equal(a3.kind, 'binary');
        assert.ok(Math.abs(a1.ts - Date.now()) < 5_000, 'ts is the publish time in ms');
        assert.deepEqual(await e.history.position('a'), { offset: 3, epoch: a1.epoch });
      });

      it('delivers a subscribed topic in publish order', async () => {
        const e = await node();
        const inbox = new Inbox(e);
        await e.broker.subscribe('t');
        const sent = await Promise.all(Array.from({ length: 50 }, (_, i) => e.broker.publish(text('t', `m${i}`))));
        assert.deepEqual(sent.map((m) => m.offset).sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i + 1));
        const got = await inbox.wait('t', 50);
        assert.deepEqual(got.map((m) => m.offset), Array.from({ length: 50 }, (_, i) => i + 1));
        const byOffset = new Map(sent.map((m) => [m.offset, m]));
        for (const m of got) assert.deepEqual(m, byOffset.get(m.offset));
      });

      itMulti('delivers to every subscribed node, in the same order, once', async () => {
        const [a, b, c] = [await node(), await node(), await node()];
        const [inB, inC] = [new Inbox(b), new Inbox(c)];
        await b.broker.subscribe('t');
        await b.broker.subscribe('t'); // idempotent: still one delivery per message
        await c.broker.subscribe('t');
        const sent = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : c).broker.publish(text('t', `m${i}`, i))));
        const offsets = Array.from({ length: 100 }, (_, i) => i + 1);
        assert.deepEqual((await inB.wait('t', 100)).map((m) => m.offset), offsets);
        assert.deepEqual((await inC.wait('t', 100)).map((m) => m.offset), offsets);
        assert.deepEqual(inB.of('t').map((m) => m.id), inC.of('t').map((m) => m.id));
        assert.equal(new Set(sent.map((m) => m.id)).size, 100);
        await pause(100);
        assert.equal(inB.of('t').length, 100, 'no duplicates');
      });

      itMulti('does not deliver topics a node has not subscribed, or has unsubscribed', async () => {
        const [a, b] = [await node(), await node()];
        const inB = new Inbox(b);
        await b.broker.subscribe('wanted');
        await a.broker.publish(text('unwanted', 'x'));
        await a.broker.publish(text('wanted', 'y'));
        await inB.wait('wanted', 1);
        await b.broker.unsubscribe('wanted');
        await a.broker.publish(text('wanted', 'z'));
        await b.broker.subscribe('other');
        await a.broker.publish(text('other', 'w'));
        await inB.wait('other', 1);
        await pause(150);
        assert.deepEqual(inB.messages.map((m) => m.body), ['y', 'w']);
      });

      it('fence resolves after every earlier message of the topic was delivered', async () => {
        const e = await node();
        const inbox = new Inbox(e);
        await e.broker.subscribe('f');
        for (let i = 0; i < 20; i++) await e.broker.publish(text('f', `m${i}`));
        await e.broker.fence?.('f');
        if (e.broker.fence) assert.equal(inbox.of('f').length, 20);
      });

      it('reading a topic creates nothing; a reader from offset 0 gets the first epoch whole, on every node', async () => {
        const [a, b] = options.multiNode ? [await node(), await node()] : [await node(), undefined];
        const reader = b ?? a;
        const statsBefore = await reader.history.stats();
        const before = await reader.history.position('fresh');
        assert.deepEqual(before, { offset: 0, epoch: '' });
        const none = await reader.history.since('fresh', before);
        assert.deepEqual(none, { messages: [], position: { offset: 0, epoch: '' }, complete: true });
        const lost = await reader.history.since('never', { offset: 7, epoch: 'gone' });
        assert.equal(lost.complete, false);
        assert.equal((await reader.history.stats()).topics, statsBefore.topics);
        const m = await a.broker.publish(text('fresh', 'first'));
        assert.equal(m.offset, 1);
        assert.ok(m.epoch.length > 0);
        const r = await reader.history.since('fresh', before);
        assert.deepEqual(r.messages.map((x) => x.body), ['first']);
        assert.deepEqual(r.position, { offset: 1, epoch: m.epoch });
        assert.equal(r.complete, true);
      });

      it('recovers from history: since, the seam, complete and epochs', async () => {
        const e = await node();
        const sent: Message[] = [];
        for (let i = 1; i <= 3; i++) sent.push(await e.broker.publish(text('h', `m${i}`)));
        const epoch = sent[0]!.epoch;
        const bodies = (r: { messages: Message[] }): string[] => r.messages.map((m) => m.body);

        let r = await e.history.since('h', { offset: 0, epoch: 'whatever' });
        assert.deepEqual([bodies(r), r.complete, r.position], [['m1', 'm2', 'm3'], true, { offset: 3, epoch }]);
        assert.deepEqual(r.messages, sent);
        r = await e.history.since('h', { offset: 1, epoch });
        assert.deepEqual([bodies(r), r.complete], [['m2', 'm3'], true]);
        r = await e.history.since('h', { offset: 3, epoch });
        assert.deepEqual([bodies(r), r.complete, r.position], [[], true, { offset: 3, epoch }]);
        r = await e.history.since('h', { offset: 2, epoch: 'another-epoch' });
        assert.deepEqual([bodies(r), r.complete], [['m1', 'm2', 'm3'], false]);

        for (let i = 4; i <= 8; i++) await e.broker.publish(text('h', `m${i}`)); // history keeps 5: m4..m8
        r = await e.history.since('h', { offset: 1, epoch });
        assert.deepEqual([bodies(r), r.complete], [['m4', 'm5', 'm6', 'm7', 'm8'], false]);
        r = await e.history.since('h', { offset: 3, epoch });
        assert.deepEqual([bodies(r), r.complete], [['m4', 'm5', 'm6', 'm7', 'm8'], true]);
        r = await e.history.since('h', { offset: 6, epoch });
        assert.deepEqual([bodies(r), r.complete, r.position], [['m7', 'm8'], true, { offset: 8, epoch }]);
        r = await e.history.since('h', { offset: 0, epoch });
        assert.deepEqual([bodies(r).length, r.complete], [5, false]);
      });

      it('starts a new epoch at offset 1 after the history TTL passed without a publish', async () => {
        const e = await node();
        const first = await e.broker.publish(text('ttl', 'old'));
        await waitFor('the topic history to expire', async () => (await e.history.position('ttl')).epoch !== first.epoch);
        assert.deepEqual(await e.history.position('ttl'), { offset: 0, epoch: '' });
        const m = await e.broker.publish(text('ttl', 'new'));
        assert.equal(m.offset, 1);
        assert.notEqual(m.epoch, first.epoch);
        const r = await e.history.since('ttl', { offset: 1, epoch: first.epoch });
        assert.deepEqual([r.messages.map((x) => x.body), r.complete], [['new'], false]);
      });

      it('caps a recovery at maxBytes: the newest messages that fit (at least one), complete false when cut', async () => {
        const e = await node();
        const body = 'x'.repeat(1000);
        let last = await e.broker.publish(text('cap', body));
        for (let i = 0; i < 4; i++) last = await e.broker.publish(text('cap', body));
        const epoch = last.epoch;
        // Five messages of ~1 KB (payload; Redis counts its stored JSON, a little more): 2.5 KB holds two.
        let r = await e.history.since('cap', { offset: 0, epoch }, 2500);
        assert.deepEqual([r.messages.map((m) => m.offset), r.complete, r.position.offset], [[4, 5], false, 5]);
        r = await e.history.since('cap', { offset: 3, epoch }, 2500);
        assert.deepEqual([r.messages.map((m) => m.offset), r.complete], [[4, 5], true], 'a gap that fits is whole');
        r = await e.history.since('cap', { offset: 0, epoch }, 10);
        assert.deepEqual([r.messages.map((m) => m.offset), r.complete], [[5], false], 'one message larger than the cap still goes');
        r = await e.history.since('cap', { offset: 0, epoch });
        assert.equal(r.messages.length, 5, 'no cap: everything');
      });

      it('keeps no history with historySize 0, but still counts offsets', async () => {
        const e = await node({ historySize: 0 });
        await e.broker.publish(text('n', 'a'));
        const m = await e.broker.publish(text('n', 'b'));
        assert.equal(m.offset, 2);
        const r = await e.history.since('n', { offset: 1, epoch: m.epoch });
        assert.deepEqual([r.messages, r.complete, r.position.offset], [[], false, 2]);
      });

      it('treats topics named like Object.prototype members, or with braces, as any topic', async () => {
        const e = await node();
        const inbox = new Inbox(e);
        const odd = ['__proto__', 'constructor', 'a}b{c', '{t:x}'];
        for (const t of odd) await e.broker.subscribe(t);
        for (const t of odd) assert.equal((await e.broker.publish(text(t, `to ${t}`))).offset, 1);
        for (const t of odd) assert.deepEqual((await inbox.wait(t, 1)).map((m) => m.body), [`to ${t}`]);
        for (const t of odd) assert.deepEqual((await e.history.since(t, { offset: 0, epoch: '' })).messages.map((m) => m.body), [`to ${t}`]);
        const reg = { ...registration(1, odd), cursors: JSON.parse('{"__proto__":{"offset":1,"epoch":"E"}}') as Registration['cursors'] };
        await e.registry.create(reg, lim(10));
        const got = await e.registry.get(reg.id);
        assert.deepEqual(got?.topics, odd);
        assert.deepEqual(Object.entries(got?.cursors ?? {}), [['__proto__', { offset: 1, epoch: 'E' }]]);
      });

      it('reports history stats', async () => {
        const e = await node();
        await e.broker.publish(text('s1', 'hello'));
        await e.broker.publish(text('s1', 'world'));
        await e.broker.publish(text('s2', '!'));
        const s = await e.history.stats();
        assert.equal(s.topics, 2);
        assert.equal(s.messages, 3);
        assert.ok(s.bytes > 0);
      });
    });

    describe('presence', () => {
      it('counts clients and users and lists members; members: false gives counts alone', async () => {
        const e = await node();
        e.presence.add('room', '1');
        e.presence.add('room', '1');
        e.presence.add('room', 'alice');
        e.presence.add('other', 'bob');
        await e.presence.flushed();
        const full = await e.presence.get('room', true);
        assert.deepEqual({ ...full, members: full.members?.sort(byUser) }, { clients: 3, users: 2, members: [{ user: '1', clients: 2 }, { user: 'alice', clients: 1 }] });
        assert.deepEqual(await e.presence.get('room', false), { clients: 3, users: 2 });
        assert.deepEqual(await e.presence.get('empty', true), { clients: 0, users: 0, members: [] });
        e.presence.remove('room', '1');
        e.presence.remove('room', 'alice');
        e.presence.remove('room', 'alice'); // more removes than adds: ignored
        await e.presence.flushed();
        assert.deepEqual(await e.presence.get('room', true), { clients: 1, users: 1, members: [{ user: '1', clients: 1 }] });
        e.presence.remove('room', '1');
        await e.presence.flushed();
        assert.deepEqual(await e.presence.get('room', false), { clients: 0, users: 0 });
      });

      it('announces a user\'s first client in (join) and last client out (leave), never the others', async () => {
        const e = await node();
        const tl = new Timeline(e);
        await e.broker.subscribe('r');
        for (const step of ['add', 'add', 'remove', 'remove', 'add'] as const) {
          e.presence[step]('r', 'u1');
          await e.presence.flushed();
        }
        await e.broker.publish(text('r', 'end'));
        assert.deepEqual(await tl.wait('r', 4), ['+u1', '-u1', '+u1', 'end']);
      });

      it('orders join/leave with the topic\'s messages', async () => {
        const e = await node();
        const tl = new Timeline(e);
        await e.broker.subscribe('o');
        await e.broker.publish(text('o', 'm1'));
        e.presence.add('o', 'u');
        await e.presence.flushed();
        await e.broker.publish(text('o', 'm2'));
        e.presence.remove('o', 'u');
        await e.presence.flushed();
        await e.broker.publish(text('o', 'm3'));
        assert.deepEqual(await tl.wait('o', 5), ['m1', '+u', 'm2', '-u', 'm3']);
      });

      it('batches a burst of joins into few events', async () => {
        const e = await node();
        const events: number[] = [];
        e.presence.onEvent((ev) => events.push(ev.joined.length));
        await e.broker.subscribe('burst');
        for (let i = 0; i < 500; i++) e.presence.add('burst', `u${i}`);
        await e.presence.flushed();
        await waitFor('every join', () => events.reduce((a, b) => a + b, 0) === 500);
        assert.ok(events.length <= 5, `500 joins in ${events.length} events`);
        assert.deepEqual(await e.presence.get('burst', false), { clients: 500, users: 500 });
      });

      it('treats topics and users of any characters as any other', async () => {
        const e = await node();
        const odd = ['__proto__', 'a}b{c', '{t:x}', 'sp ace'];
        for (const t of odd) e.presence.add(t, 'constructor');
        e.presence.add('{t:x}', 'ü"\\/');
        await e.presence.flushed();
        for (const t of odd) assert.deepEqual((await e.presence.get(t, true)).members?.map((m) => m.user).sort(), t === '{t:x}' ? ['constructor', 'ü"\\/'] : ['constructor']);
      });

      itMulti('sums every node\'s members, and announces a user once across nodes', async () => {
        const [a, b, c] = [await node(), await node(), await node()];
        const tl = new Timeline(c);
        await c.broker.subscribe('m');
        a.presence.add('m', 'u1');
        await a.presence.flushed();
        b.presence.add('m', 'u1'); // the same user on another node: no join
        b.presence.add('m', 'u2');
        c.presence.add('m', 'u3');
        await Promise.all([b.presence.flushed(), c.presence.flushed()]);
        for (const e of [a, b, c]) {
          const p = await e.presence.get('m', true);
          assert.deepEqual({ ...p, members: p.members?.sort(byUser) }, { clients: 4, users: 3, members: [{ user: 'u1', clients: 2 }, { user: 'u2', clients: 1 }, { user: 'u3', clients: 1 }] });
        }
        a.presence.remove('m', 'u1'); // u1 still on b: no leave
        await a.presence.flushed();
        b.presence.remove('m', 'u1');
        await b.presence.flushed();
        await c.broker.publish(text('m', 'end'));
        const got = await tl.wait('m', 5);
        assert.deepEqual([got.slice(0, 3).sort(), got.slice(3)], [['+u1', '+u2', '+u3'], ['-u1', 'end']]);
      });

      itMulti('every node sees joins, leaves and messages in one order', async () => {
        const [a, b, c] = [await node(), await node(), await node()];
        const [tb, tc] = [new Timeline(b), new Timeline(c)];
        await b.broker.subscribe('ord');
        await c.broker.subscribe('ord');
        const work: Array<Promise<unknown>> = [];
        for (let i = 0; i < 30; i++) {
          (i % 2 ? a : c).presence.add('ord', `u${i}`);
          work.push((i % 2 ? c : a).broker.publish(text('ord', `m${i}`)));
          if (i % 3 === 0) work.push(new Promise((r) => setImmediate(r)));
        }
        await Promise.all([...work, a.presence.flushed(), c.presence.flushed()]);
        const [gb, gc] = [await tb.wait('ord', 60), await tc.wait('ord', 60)];
        assert.deepEqual(gb, gc);
      });

      itMulti('a node that stops renewing loses its members within the TTL, and a survivor announces the leaves', async () => {
        const [a, b] = [await node(), await node()];
        const tl = new Timeline(b);
        await b.broker.subscribe('d');
        b.presence.add('d', 'stays');
        a.presence.add('d', 'dies1');
        a.presence.add('d', 'dies2');
        await Promise.all([a.presence.flushed(), b.presence.flushed()]);
        await tl.wait('d', 3);
        await a.close(); // A "crashes": it never removes its members, and stops renewing
        engines = engines.filter((e) => e !== a);
        const t0 = Date.now();
        await tl.wait('d', 5, contractConfig.presenceTtlMs * 3);
        const elapsed = Date.now() - t0;
        assert.deepEqual(tl.of('d').slice(3).sort(), ['-dies1', '-dies2']);
        assert.ok(elapsed <= contractConfig.presenceTtlMs + 500, `gone after ${elapsed} ms (TTL ${contractConfig.presenceTtlMs} ms)`);
        assert.deepEqual(await b.presence.get('d', true), { clients: 1, users: 1, members: [{ user: 'stays', clients: 1 }] });
      });

      itMulti('a live node keeps its members past the TTL', async () => {
        const [a, b] = [await node(), await node()];
        a.presence.add('k', 'u');
        await a.presence.flushed();
        await pause(contractConfig.presenceTtlMs * 2);
        assert.deepEqual(await b.presence.get('k', false), { clients: 1, users: 1 });
      });
    });

    describe('cluster view', () => {
      const names = (p: { topics: Array<{ topic: string; subscribers: number }> }): string[] => p.topics.map((t) => `${t.topic}=${t.subscribers}`);

      it('lists topics with subscribers, most first, in pages', async () => {
        const e = await node();
        e.cluster.setSubscribers('small', 1);
        e.cluster.setSubscribers('big', 5);
        e.cluster.setSubscribers('mid', 3);
        e.cluster.setSubscribers('gone', 2);
        e.cluster.setSubscribers('gone', 0);
        await waitFor('the counts written', async () => (await e.cluster.topics(0, 10)).total === 3);
        assert.deepEqual(names(await e.cluster.topics(0, 2)), ['big=5', 'mid=3']);
        assert.deepEqual(names(await e.cluster.topics(2, 2)), ['small=1']);
        assert.equal((await e.cluster.topics(2, 2)).total, 3);
      });

      it('keeps the last reported stats of this node', async () => {
        const e = await node();
        await e.cluster.report('{"node":"n0"}');
        assert.deepEqual(await e.cluster.nodeStats(), ['{"node":"n0"}']);
      });

      itMulti('sums the nodes\' subscribers; a node that stops reporting is gone within the TTL', async () => {
        const [a, b] = [await node(), await node()];
        a.cluster.setSubscribers('t', 2);
        a.cluster.setSubscribers('only-a', 1);
        b.cluster.setSubscribers('t', 3);
        await waitFor('the sum', async () => JSON.stringify(names(await b.cluster.topics(0, 10))) === '["t=5","only-a=1"]');
        await Promise.all([a.cluster.report('{"node":"a"}'), b.cluster.report('{"node":"b"}')]);
        assert.deepEqual((await a.cluster.nodeStats()).sort(), ['{"node":"a"}', '{"node":"b"}']);
        await a.close();
        engines = engines.filter((e) => e !== a);
        const keep = setInterval(() => void b.cluster.report('{"node":"b"}').catch(() => undefined), 200);
        try {
          await waitFor('A\'s share to expire', async () => JSON.stringify(names(await b.cluster.topics(0, 10))) === '["t=3"]', contractConfig.presenceTtlMs + 1_000);
          assert.deepEqual(await b.cluster.nodeStats(), ['{"node":"b"}']);
        } finally {
          clearInterval(keep);
        }
      });
    });

    describe('webhooks', () => {
      const wh = { webhookUrl: 'http://127.0.0.1:9/hook', webhookMaxPending: 1000 };
      const show = (e: WebhookEvent): string => `${e.type} ${e.topic}${e.user !== undefined ? ` ${e.user}` : ''}`;
      /** Takes, checks and acknowledges events until `count` were seen (only the delivering node gets any). */
      const drain = async (nodes: Engine[], count: number, into: WebhookEvent[] = [], timeoutMs = 5_000): Promise<WebhookEvent[]> => {
        await waitFor(`${count} webhook events (have ${into.length}: ${into.map(show).join(', ')})`, async () => {
          for (const n of nodes) {
            const got = await n.webhooks.take(50);
            into.push(...got);
            await n.webhooks.ack(got);
          }
          return into.length >= count;
        }, timeoutMs);
        return into;
      };

      it('queues topic.occupied / topic.vacated as a topic\'s count crosses zero, with ids and times', async () => {
        const e = await node(wh);
        const before = Date.now();
        e.cluster.setSubscribers('w', 1);
        e.cluster.setSubscribers('w', 3);
        await pause(50);
        e.cluster.setSubscribers('w', 0);
        const got = await drain([e], 2);
        assert.deepEqual(got.map(show), ['topic.occupied w', 'topic.vacated w']);
        assert.equal(new Set(got.map((x) => x.id)).size, 2);
        for (const x of got) assert.ok(x.time >= before - 1000 && x.time <= Date.now() + 1000, `time ${x.time}`);
        await pause(100);
        assert.deepEqual(await e.webhooks.take(10), [], 'acknowledged events are gone');
      });

      it('queues member.joined / member.left for a user\'s first client in and last out', async () => {
        const e = await node(wh);
        e.presence.add('m', 'u1');
        e.presence.add('m', 'u1');
        await e.presence.flushed();
        e.presence.remove('m', 'u1');
        await e.presence.flushed();
        e.presence.remove('m', 'u1');
        await e.presence.flushed();
        assert.deepEqual((await drain([e], 2)).map(show), ['member.joined m u1', 'member.left m u1']);
      });

      it('hands out events again until acknowledged, with the same ids', async () => {
        const e = await node(wh);
        e.cluster.setSubscribers('again', 1);
        let first: WebhookEvent[] = [];
        await waitFor('the event', async () => (first = await e.webhooks.take(10)).length === 1);
        const second = await e.webhooks.take(10);
        assert.deepEqual(second, first);
        await e.webhooks.ack(first);
        assert.deepEqual(await e.webhooks.take(10), []);
      });

      it('drops and counts events past maxPending', async () => {
        const e = await node({ ...wh, webhookMaxPending: 3 });
        for (let i = 0; i < 5; i++) e.cluster.setSubscribers(`full${i}`, 1);
        let dropped = 0;
        await waitFor('2 events dropped', async () => (dropped += await e.webhooks.dropped()) === 2);
        let pending: WebhookEvent[] = [];
        await waitFor('3 pending', async () => (pending = await e.webhooks.take(10)).length === 3);
        assert.deepEqual(pending.map(show), ['topic.occupied full0', 'topic.occupied full1', 'topic.occupied full2']);
      });

      it('queues nothing while webhooks are off', async () => {
        const e = await node();
        e.cluster.setSubscribers('off', 1);
        await pause(200);
        assert.deepEqual(await e.webhooks.take(10), []);
      });

      itMulti('cluster-wide: occupied when the first node gets a subscriber, vacated when the last loses its own', async () => {
        const [a, b] = [await node(wh), await node(wh)];
        a.cluster.setSubscribers('cw', 1);
        const got = await drain([a, b], 1);
        b.cluster.setSubscribers('cw', 2);
        await pause(100);
        a.cluster.setSubscribers('cw', 0);
        await pause(100);
        b.cluster.setSubscribers('cw', 0);
        await drain([a, b], 2, got);
        assert.deepEqual(got.map(show), ['topic.occupied cw', 'topic.vacated cw']);
      });

      itMulti('a dead node\'s events are delivered by another, its unacknowledged ones first, same ids', async () => {
        const [a, b] = [await node(wh), await node(wh)];
        a.cluster.setSubscribers('x1', 1);
        a.cluster.setSubscribers('x2', 1);
        let taken: WebhookEvent[] = [];
        const holder = await (async () => {
          let h: Engine | undefined;
          await waitFor('a node to hand out the events', async () => {
            for (const n of [a, b]) {
              const got = await n.webhooks.take(10);
              if (got.length === 2) {
                taken = got;
                h = n;
              }
            }
            return h !== undefined;
          });
          return h!;
        })();
        const other = holder === a ? b : a;
        // The holder "dies" without acknowledging: the other takes over after the lease.
        await holder.close();
        engines = engines.filter((x) => x !== holder);
        other.cluster.setSubscribers('x3', 1);
        // A node closing takes its subscribers out (vacated); a killed one: see test/cluster/webhooks.
        const rest = holder === a ? ['topic.vacated x1', 'topic.vacated x2', 'topic.occupied x3'] : ['topic.occupied x3'];
        const got = await drain([other], 2 + rest.length, [], contractConfig.presenceTtlMs * 3);
        assert.deepEqual(got.slice(0, 2), taken);
        assert.deepEqual(got.slice(2).map(show), rest);
      });
    });

    describe('control', () => {
      const kick: ControlEvent = { type: 'kick', node: 'n0', clientId: 'c1', code: 4001, reason: 'unregistered' };

      it('delivers control events to this node', async () => {
        const e = await node();
        const got: ControlEvent[] = [];
        e.broker.onControl((ev) => got.push(ev));
        await e.broker.sendControl(kick);
        await waitFor('the control event', () => got.length === 1);
        assert.deepEqual(got[0], kick);
      });

      itMulti('delivers control events to the other nodes', async () => {
        const [a, b, c] = [await node(), await node(), await node()];
        const got: ControlEvent[] = [];
        b.broker.onControl((ev) => got.push(ev));
        c.broker.onControl((ev) => got.push(ev));
        await a.broker.sendControl(kick);
        await waitFor('both nodes to get the event', () => got.length === 2);
        assert.deepEqual(got, [kick, kick]);
      });
    });

    describe('health', () => {
      it('is healthy with a reachable backend', async () => {
        const e = await node();
        assert.equal(e.healthy(), true);
      });
    });
  });
}
