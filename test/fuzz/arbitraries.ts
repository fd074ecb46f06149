// fast-check generators of hostile JSON for the decoders and the HTTP bodies: deep nesting,
// odd types, large values, and the shapes the protocols expect with wrong things inside.
import fc from 'fast-check';

/** Arrays/objects nested `depth` levels around `inner`, as text (never built as a value). */
export const nestedText = (depth: number, kind: 'array' | 'object' | 'mixed', inner = '1'): string => {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    const arr = kind === 'array' || (kind === 'mixed' && i % 2 === 0);
    open += arr ? '[' : '{"k":';
    close = (arr ? ']' : '}') + close;
  }
  return open + inner + close;
};

/** A deeply nested JSON text: shallow to far past any limit (up to 20,000 levels). */
export const deepJson = fc
  .record({ depth: fc.oneof(fc.integer({ min: 1, max: 80 }), fc.integer({ min: 60, max: 20_000 })), kind: fc.constantFrom('array' as const, 'object' as const, 'mixed' as const) })
  .map(({ depth, kind }) => nestedText(depth, kind));

/** Any JSON text: ordinary values, odd types, big strings and numbers, deep nesting. */
export const anyJsonText = fc.oneof(
  fc.json({ maxDepth: 6 }),
  deepJson,
  fc.constantFrom('null', 'true', '0', '-1', '1e309', '-0', '1234567890123456789', '""', '"\\u0000"', '[]', '{}', '"\\ud800"'),
  fc.string({ maxLength: 20_000 }).map((s) => JSON.stringify(s)),
  fc.double().map((d) => (Number.isFinite(d) ? String(d) : '0')),
);

/** An object with the given keys set to arbitrary JSON texts (in random order), as text. */
export const envelope = (fixed: Record<string, string>, keys: string[]): fc.Arbitrary<string> =>
  fc
    .record(Object.fromEntries(keys.map((k) => [k, anyJsonText])) as Record<string, fc.Arbitrary<string>>, { requiredKeys: [] })
    .map((r) => `{${[...Object.entries(fixed).map(([k, v]) => `${JSON.stringify(k)}:${v}`), ...Object.entries(r).map(([k, v]) => `${JSON.stringify(k)}:${v}`)].join(',')}}`);

/** Frames a plain client might send: pings, topic updates with anything inside, garbage. */
export const plainFrame = fc.oneof(
  fc.constant('ping'),
  envelope({}, ['topics']),
  fc.array(anyJsonText, { maxLength: 4 }).map((items) => `{"topics":[${items.join(',')}]}`),
  anyJsonText,
  fc.string({ maxLength: 2000 }),
);

/** herald.v1 requests with every field arbitrary, and some that are well-formed but odd. */
export const v1Frame = fc.oneof(
  fc.constantFrom('subscribe', 'unsubscribe', 'topics', 'ping', 'publish', 'refresh', 'presence', 'nonsense').chain((type) => envelope({ type: JSON.stringify(type) }, ['id', 'topics', 'since', 'topic', 'data', 'token'])),
  envelope({}, ['type', 'id', 'topics']),
  fc.array(anyJsonText, { maxLength: 4 }).map((items) => `{"type":"subscribe","id":1,"topics":[${items.join(',')}]}`),
  anyJsonText,
  fc.string({ maxLength: 2000 }),
);

/** Bodies for POST /register, /publish and /publish/batch. */
export const httpBody = (route: '/register' | '/publish' | '/publish/batch'): fc.Arbitrary<string> => {
  switch (route) {
    case '/register':
      return fc.oneof(envelope({}, ['user_id', 'topics']), envelope({ user_id: '1' }, ['topics']), anyJsonText);
    case '/publish':
      return fc.oneof(envelope({ topic: '"fuzz"' }, ['user_id', 'message', 'data', 'binary']), envelope({}, ['topic', 'data']), anyJsonText);
    case '/publish/batch':
      return fc.oneof(
        fc.array(envelope({ topic: '"fuzz"' }, ['user_id', 'message', 'data']), { maxLength: 5 }).map((items) => `{"messages":[${items.join(',')}]}`),
        envelope({}, ['messages']),
        anyJsonText,
      );
  }
};
