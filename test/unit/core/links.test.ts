import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Links } from '../../../src/core/links.js';
import type { Link } from '../../../src/core/session.js';

const link = (n: number): Link => ({ live: n % 2 === 0, queue: [], queuedBytes: n, written: undefined, liveSince: n, start: undefined });

describe('Links (a session\'s topics)', () => {
  // 40 topic names: enough for a session to pass 16 topics and switch to a Map; 3: mostly one
  // topic (held without an array), moving to the flat array and back.
  for (const names of [40, 3]) {
    test(`behaves like a Map in join order (${names} topic names: one topic, flat array${names > 16 ? ', Map' : ''})`, () => {
      const op = fc.oneof(
        fc.record({ kind: fc.constant('set' as const), topic: fc.integer({ min: 0, max: names - 1 }), value: fc.nat(1000) }),
        fc.record({ kind: fc.constant('delete' as const), topic: fc.integer({ min: 0, max: names - 1 }) }),
      );
      fc.assert(
        fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
          const links = new Links();
          const model = new Map<string, Link>();
          for (const o of ops) {
            const topic = `t${o.topic}`;
            if (o.kind === 'set') {
              const l = link(o.value);
              links.set(topic, l);
              model.set(topic, l);
            } else {
              assert.equal(links.delete(topic), model.delete(topic));
            }
            assert.equal(links.size, model.size);
            assert.deepEqual(links.topics(), [...model.keys()]);
            for (let t = 0; t < names; t++) {
              assert.equal(links.get(`t${t}`), model.get(`t${t}`));
              assert.equal(links.has(`t${t}`), model.has(`t${t}`));
            }
          }
        }),
        { numRuns: 300 },
      );
    });
  }

  for (const n of [1, 5, 20]) {
    test(`topics() is a copy: links can be removed while walking it (${n} topics: ${n === 1 ? 'no array' : n <= 16 ? 'flat array' : 'Map'})`, () => {
      const links = new Links();
      for (let i = 0; i < n; i++) links.set(`t${i}`, link(i));
      const walked: string[] = [];
      for (const t of links.topics()) {
        walked.push(t);
        links.delete(t);
      }
      assert.equal(walked.length, n);
      assert.equal(links.size, 0);
      assert.deepEqual(links.topics(), []);
    });
  }
});
