// The two wire decoders and what runs after them never throw, whatever the frame: every input
// ends as a request, an `ignored`, or an error reply whose message does not echo the input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodePlain } from '../../src/protocol/plain.js';
import { checkTopics } from '../../src/protocol/topics.js';
import { decodeV1 } from '../../src/protocol/v1.js';
import { nestedDeeperThan } from '../../src/protocol/json-safety.js';
import { deepJson, nestedText, plainFrame, v1Frame } from './arbitraries.js';

const limits = { maxTopics: 100, maxTopicLength: 256 };

describe('decoder fuzz', () => {
  it('decodePlain + checkTopics never throw; deep input is ignored unparsed', () => {
    fc.assert(
      fc.property(plainFrame, (text) => {
        const r = decodePlain(text, 64);
        if (r.type === 'topics') {
          const c = checkTopics(r.topics, limits);
          if (!c.ok) assert.ok(c.message.length < 300, c.message.slice(0, 300));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('decodeV1 never throws, and what it accepts can be validated and re-serialized', () => {
    fc.assert(
      fc.property(v1Frame, (text) => {
        const r = decodeV1(text, 64);
        if (!r.ok) {
          assert.ok(r.error.message.length < 300, r.error.message.slice(0, 300));
          return;
        }
        const req = r.request;
        if ('topics' in req) checkTopics(req.topics, limits);
        if (req.type === 'publish') JSON.stringify(req.data);
        JSON.stringify(req);
      }),
      { numRuns: 2000 },
    );
  });

  it('nestedDeeperThan agrees with the real depth, and ignores brackets inside strings', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 300 }), fc.constantFrom('array' as const, 'object' as const, 'mixed' as const), (depth, max, kind) => {
        assert.equal(nestedDeeperThan(nestedText(depth, kind), max), depth > max);
        assert.equal(nestedDeeperThan(nestedText(depth, kind, JSON.stringify('[[[[{{{{\\"[[[[' + '['.repeat(400))), max), depth > max);
      }),
    );
    fc.assert(fc.property(deepJson, (text) => void decodeV1(text, 64)));
  });

  it('nestedDeeperThan skips strings as a character-by-character scan would, on any text', () => {
    // Quotes, runs of backslashes and brackets in every order, valid JSON or not.
    const text = fc.array(fc.constantFrom('"', '\\', '\\\\', '[', ']', '{', '}', 'a', ','), { maxLength: 200 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 12 }), (t, max) => {
        assert.equal(nestedDeeperThan(t, max), scanDeeperThan(t, max), JSON.stringify(t));
      }),
      { numRuns: 5000 },
    );
  });
});

/** The plain scan: one character at a time, a backslash in a string skips the next one. */
function scanDeeperThan(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      if (++depth > max) return true;
    } else if (c === ']' || c === '}') depth--;
  }
  return false;
}
