import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkTopics } from '../../../src/protocol/topics.js';

describe('topic lists', () => {
  test('a topic length counts characters (code points), as the HTTP schemas do', () => {
    const limits = { maxTopics: 10, maxTopicLength: 4 };
    assert.equal(checkTopics(['😀😀😀😀'], limits).ok, true);
    assert.equal(checkTopics(['😀😀😀😀😀'], limits).ok, false);
    assert.equal(checkTopics(['abcd'], limits).ok, true);
    assert.equal(checkTopics(['abcde'], limits).ok, false);
  });

  test('duplicates are removed in order; too many or bad entries are refused with a code', () => {
    const limits = { maxTopics: 2, maxTopicLength: 8 };
    assert.deepEqual(checkTopics(['a', 'b', 'a'], limits), { ok: true, topics: ['a', 'b'] });
    const many = checkTopics(['a', 'b', 'c'], limits);
    assert.equal(many.ok || many.code, 'too_many_topics');
    for (const bad of ['a', [''], [1], [null], ['123456789']]) {
      const r = checkTopics(bad, limits);
      assert.equal(r.ok || r.code, 'invalid_topic', JSON.stringify(bad));
    }
  });
});
