import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeV1, encodeError, encodeMessage, encodeOk, encodePong, encodeRecovered, encodeWelcome, type V1Decoded } from '../../../src/protocol/v1.js';

const CODES = new Set(['invalid_json', 'bad_request', 'unknown_type']);

/** The decoder's contract for any input: it returns (never throws) a well-formed result. */
function checkShape(d: V1Decoded): void {
  assert.equal(typeof d, 'object');
  if (d.ok) {
    assert.ok(['subscribe', 'unsubscribe', 'topics', 'ping', 'publish'].includes(d.request.type), `unexpected type ${String(d.request.type)}`);
    return;
  }
  assert.ok(CODES.has(d.error.code), `unexpected code ${d.error.code}`);
  assert.equal(typeof d.error.message, 'string');
  assert.ok(d.error.message.length > 0, 'error message must not be empty');
  if (d.error.id !== undefined) assert.ok(typeof d.error.id === 'string' || typeof d.error.id === 'number');
  // The error must be encodable as an error frame that parses back.
  const frame = JSON.parse(encodeError(d.error.id, d.error.code, d.error.message)) as Record<string, unknown>;
  assert.equal(frame.type, 'error');
  assert.equal(frame.code, d.error.code);
}

// Topic names that collide with Object.prototype are legal topics (1..256 characters).
const trickyKey = fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'a', 'chat.1', '');
const topicName = fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), trickyKey.filter((k) => k.length > 0));
// -0 is sent as 0 by JSON: compare what the wire carries.
const requestId = fc.oneof(fc.string({ maxLength: 128 }), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (Object.is(x, -0) ? 0 : x)));
const position = fc.record({ offset: fc.nat(), epoch: fc.string({ maxLength: 12 }) }, { noNullPrototype: true });

/** A JSON object whose own keys are exactly `entries` (JSON.parse keeps "__proto__" as an own key). */
function jsonObject(entries: Array<[string, unknown]>): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
}

describe('decodeV1: no input crashes it', () => {
  test('arbitrary strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })), (s) => checkShape(decodeV1(s))),
      { numRuns: 2000 },
    );
  });

  test('arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        const d = decodeV1(text);
        checkShape(d);
        if (v === null || typeof v !== 'object' || Array.isArray(v)) assert.equal(d.ok, false);
      }),
      { numRuns: 2000 },
    );
  });

  test('objects with random type / id / topics / since / topic / data', () => {
    const anyValue = fc.oneof(fc.jsonValue(), fc.constant(undefined));
    const typeValue = fc.oneof(fc.constantFrom('subscribe', 'unsubscribe', 'topics', 'ping', 'publish', 'message', 'ok', '', 'SUBSCRIBE', '__proto__', 'constructor'), fc.jsonValue());
    const sinceValue = fc.oneof(
      fc.dictionary(topicName, fc.oneof(position, fc.jsonValue()) as fc.Arbitrary<unknown>),
      fc.jsonValue(),
    );
    const obj = fc.record(
      { type: typeValue, id: fc.oneof(requestId, fc.jsonValue()), topics: fc.oneof(fc.array(topicName), fc.jsonValue()), since: sinceValue, topic: fc.oneof(topicName, fc.jsonValue()), data: anyValue },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(obj, (o) => {
        checkShape(decodeV1(JSON.stringify(o)));
      }),
      { numRuns: 3000 },
    );
  });

  test('"since" with keys that collide with Object.prototype never crashes', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(trickyKey, fc.oneof(position, fc.jsonValue() as fc.Arbitrary<unknown>))), (entries) => {
        checkShape(decodeV1(`{"type":"subscribe","topics":["a"],"since":${jsonObject(entries as Array<[string, unknown]>)}}`));
      }),
    );
  });
});

describe('decodeV1: every bad input gets an error with a code and a message', () => {
  const bad: Array<[string, string, string | number | undefined]> = [
    ['', 'invalid_json', undefined],
    ['{', 'invalid_json', undefined],
    ['not json', 'invalid_json', undefined],
    ['null', 'bad_request', undefined],
    ['[]', 'bad_request', undefined],
    ['[{"type":"ping"}]', 'bad_request', undefined],
    ['"ping"', 'bad_request', undefined],
    ['42', 'bad_request', undefined],
    ['{}', 'bad_request', undefined],
    ['{"id":7}', 'bad_request', 7],
    ['{"type":null,"id":"x"}', 'unknown_type', 'x'],
    ['{"type":"nope","id":"x"}', 'unknown_type', 'x'],
    ['{"type":42}', 'unknown_type', undefined],
    ['{"type":"subscribe"}', 'bad_request', undefined],
    ['{"type":"subscribe","id":1}', 'bad_request', 1],
    ['{"type":"unsubscribe","id":"u"}', 'bad_request', 'u'],
    ['{"type":"topics"}', 'bad_request', undefined],
    ['{"type":"publish","topic":"t"}', 'bad_request', undefined],
    ['{"type":"publish","data":1}', 'bad_request', undefined],
    ['{"type":"publish","topic":5,"data":1}', 'bad_request', undefined],
    ['{"type":"ping","id":{}}', 'bad_request', undefined],
    ['{"type":"ping","id":null}', 'bad_request', undefined],
    ['{"type":"ping","id":true}', 'bad_request', undefined],
    [`{"type":"ping","id":"${'x'.repeat(129)}"}`, 'bad_request', undefined],
    ['{"type":"ping","id":1e400}', 'bad_request', undefined],
    ['{"type":"subscribe","topics":["a"],"since":null}', 'bad_request', undefined],
    ['{"type":"subscribe","topics":["a"],"since":[]}', 'bad_request', undefined],
    ['{"type":"subscribe","topics":["a"],"since":"a"}', 'bad_request', undefined],
    ['{"type":"subscribe","topics":["a"],"since":{"a":null}}', 'bad_request', undefined],
    ['{"type":"subscribe","topics":["a"],"since":{"a":5}}', 'bad_request', undefined],
    ['{"type":"subscribe","topics":["a"],"since":{"a":{"offset":-1,"epoch":"e"}}}', 'bad_request', undefined],
    ['{"type":"subscribe","topics":["a"],"since":{"a":{"offset":1.5,"epoch":"e"}}}', 'bad_request', undefined],
    ['{"type":"subscribe","topics":["a"],"since":{"a":{"offset":"1","epoch":"e"}}}', 'bad_request', undefined],
    ['{"type":"subscribe","topics":["a"],"since":{"a":{"offset":1e300,"epoch":"e"}}}', 'bad_request', undefined],
    ['{"type":"subscribe","topics":["a"],"since":{"a":{"offset":1}}}', 'bad_request', undefined],
    ['{"type":"subscribe","topics":["a"],"since":{"a":{"offset":1,"epoch":3}}}', 'bad_request', undefined],
    ['{"type":"subscribe","id":"s","topics":["a"],"since":{"a":{"epoch":"e"}}}', 'bad_request', 's'],
    ['{"type":"subscribe","topics":["a"],"since":{"a":[1,"e"]}}', 'bad_request', undefined],
  ];
  for (const [input, code, id] of bad) {
    test(`${input.slice(0, 90)} -> ${code}`, () => {
      const d = decodeV1(input);
      assert.equal(d.ok, false, `accepted: ${JSON.stringify(d)}`);
      if (d.ok) return;
      assert.equal(d.error.code, code);
      assert.ok(d.error.message.length > 0);
      assert.equal(d.error.id, id);
      checkShape(d);
    });
  }

  test('bad since, any shape: an error naming since, the id echoed', () => {
    const badPos = fc.oneof(
      fc.constant(null),
      fc.integer(),
      fc.string(),
      fc.record({ offset: fc.oneof(fc.integer({ max: -1 }), fc.double({ noInteger: true }), fc.string(), fc.constant(null)), epoch: fc.string() }),
      fc.record({ offset: fc.nat(), epoch: fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.string())) }),
      fc.record({ epoch: fc.string() }),
    );
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 10 }), badPos, fc.string({ maxLength: 20 }), (topic, pos, id) => {
        const d = decodeV1(JSON.stringify({ type: 'subscribe', id, topics: [topic], since: { [topic]: pos } }));
        assert.equal(d.ok, false);
        if (d.ok) return;
        assert.equal(d.error.code, 'bad_request');
        assert.equal(d.error.id, id);
        assert.match(d.error.message, /since/);
      }),
    );
  });

  test('an unknown type is named in the message', () => {
    const d = decodeV1('{"type":"subscrbe","id":3,"topics":[]}');
    assert.equal(d.ok, false);
    if (!d.ok) assert.match(d.error.message, /subscrbe/);
  });
});

describe('decodeV1: valid requests round-trip', () => {
  const idOpt = fc.option(requestId, { nil: undefined });

  test('subscribe / unsubscribe / topics with any topics value', () => {
    fc.assert(
      fc.property(fc.constantFrom('subscribe', 'unsubscribe', 'topics'), idOpt, fc.oneof(fc.array(topicName), fc.jsonValue()), (type, id, topics) => {
        const req = id === undefined ? { type, topics } : { type, id, topics };
        const d = decodeV1(JSON.stringify(req));
        assert.equal(d.ok, true, JSON.stringify(d));
        if (d.ok) assert.deepEqual(d.request, JSON.parse(JSON.stringify(req)));
      }),
    );
  });

  test('subscribe with since keeps every topic position, including names like "constructor" or "__proto__"', () => {
    fc.assert(
      fc.property(idOpt, fc.uniqueArray(fc.tuple(topicName, position), { selector: (e) => e[0], maxLength: 6 }), (id, entries) => {
        const text = `{"type":"subscribe"${id === undefined ? '' : `,"id":${JSON.stringify(id)}`},"topics":${JSON.stringify(entries.map((e) => e[0]))},"since":${jsonObject(entries)}}`;
        const d = decodeV1(text);
        assert.equal(d.ok, true, JSON.stringify(d));
        if (!d.ok || d.request.type !== 'subscribe') return;
        assert.equal(d.request.id, id);
        const since = d.request.since!;
        assert.deepEqual(Object.keys(since).sort(), entries.map((e) => e[0]).sort(), 'every since key is an own key');
        for (const [t, p] of entries) {
          assert.ok(Object.prototype.hasOwnProperty.call(since, t), `since has no own key ${t}`);
          assert.deepEqual(since[t], p);
        }
        // Topics not named in since must have no position (the relay looks up since[topic]).
        for (const probe of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
          if (!entries.some((e) => e[0] === probe)) assert.equal(Object.prototype.hasOwnProperty.call(since, probe), false);
        }
      }),
    );
  });

  test('since: {"__proto__": {...}} is kept as the position of topic "__proto__"', () => {
    const d = decodeV1('{"type":"subscribe","topics":["__proto__"],"since":{"__proto__":{"offset":3,"epoch":"e"}}}');
    assert.equal(d.ok, true);
    if (!d.ok || d.request.type !== 'subscribe') return;
    assert.ok(Object.prototype.hasOwnProperty.call(d.request.since, '__proto__'), 'since lost the "__proto__" topic');
    assert.deepEqual(Object.getOwnPropertyDescriptor(d.request.since, '__proto__')?.value, { offset: 3, epoch: 'e' });
    // ...and must not turn it into the prototype, which would give every topic a position:
    assert.equal((d.request.since as Record<string, unknown>)['offset'], undefined);
  });

  test('ping and publish', () => {
    fc.assert(
      fc.property(idOpt, topicName, fc.jsonValue(), (id, topic, data) => {
        const p = decodeV1(JSON.stringify(id === undefined ? { type: 'ping' } : { type: 'ping', id }));
        assert.deepEqual(p, { ok: true, request: id === undefined ? { type: 'ping' } : { type: 'ping', id } });
        const req = id === undefined ? { type: 'publish', topic, data } : { type: 'publish', id, topic, data };
        const d = decodeV1(JSON.stringify(req));
        assert.equal(d.ok, true);
        if (d.ok) assert.deepEqual(d.request, JSON.parse(JSON.stringify(req)));
      }),
    );
  });

  test('publish with data: null is valid', () => {
    assert.deepEqual(decodeV1('{"type":"publish","topic":"t","data":null}'), { ok: true, request: { type: 'publish', topic: 't', data: null } });
  });

  test('extra fields are ignored, id 0 and "" are echoed', () => {
    assert.deepEqual(decodeV1('{"type":"ping","id":0,"x":1}'), { ok: true, request: { type: 'ping', id: 0 } });
    assert.deepEqual(decodeV1('{"type":"ping","id":""}'), { ok: true, request: { type: 'ping', id: '' } });
  });
});

describe('v1 encoders produce valid JSON', () => {
  test('message frames parse back for any topic / payload', () => {
    fc.assert(
      fc.property(topicName, fc.oneof(fc.constant('text'), fc.constant('json'), fc.constant('binary')), fc.jsonValue(), fc.string(), fc.nat(), fc.string({ maxLength: 10 }), (topic, kind, data, text, offset, epoch) => {
        const body = kind === 'json' ? JSON.stringify(data) : kind === 'text' ? text : Buffer.from(text).toString('base64');
        const o = JSON.parse(encodeMessage({ id: 'i', topic, kind: kind as 'text', body, offset, epoch, ts: 5 })) as Record<string, unknown>;
        assert.equal(o.type, 'message');
        assert.equal(o.topic, topic);
        assert.equal(o.offset, offset);
        assert.equal(o.epoch, epoch);
        assert.equal(o.ts, 5);
        if (kind === 'json') assert.deepEqual(o.data, JSON.parse(JSON.stringify(data)));
        else if (kind === 'text') assert.equal(o.data, text);
        else assert.equal(o.binary, body);
      }),
    );
  });

  test('replies echo ids', () => {
    fc.assert(
      fc.property(fc.option(requestId, { nil: undefined }), (id) => {
        const expectId = (s: string, type: string): void => {
          const o = JSON.parse(s) as Record<string, unknown>;
          assert.equal(o.type, type);
          assert.equal(o.id, id === undefined ? undefined : JSON.parse(JSON.stringify(id)));
          assert.equal('id' in o, id !== undefined);
        };
        expectId(encodeOk(id), 'ok');
        expectId(encodePong(id), 'pong');
        expectId(encodeError(id, 'bad_request', 'm'), 'error');
      }),
    );
    assert.deepEqual(JSON.parse(encodeOk('a', { offset: 4 })), { type: 'ok', id: 'a', offset: 4 });
    assert.deepEqual(JSON.parse(encodeRecovered('t', { offset: 9, epoch: 'e' }, false)), { type: 'recovered', topic: 't', epoch: 'e', offset: 9, complete: false });
    assert.deepEqual(JSON.parse(encodeWelcome('c', 7, ['a'], 25000)), { type: 'welcome', client: 'c', user: 7, topics: ['a'], heartbeat_ms: 25000 });
  });
});
