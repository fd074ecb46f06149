import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { AccessPolicy } from '../../../src/core/access.js';
import { topicMatcher } from '../../../src/core/topic-pattern.js';

describe('topic patterns', () => {
  test('* matches any run of characters, dots and newlines included; the rest is literal', () => {
    const m = topicMatcher(['news.*', 'a*b']);
    assert.equal(m('news.'), true);
    assert.equal(m('news.sport.2'), true);
    assert.equal(m('news.a\nb'), true);
    assert.equal(m('news'), false);
    assert.equal(m('xnews.a'), false);
    assert.equal(m('ab'), true);
    assert.equal(m('a.x.b'), true);
    assert.equal(m('a.x.bc'), false);
  });

  test('regex characters are literal', () => {
    const m = topicMatcher(['a.b', '(x)+', 'c[1]', 'd$', '^e', 'f\\g', 'h?', 'i|j']);
    for (const t of ['a.b', '(x)+', 'c[1]', 'd$', '^e', 'f\\g', 'h?', 'i|j']) assert.equal(m(t), true, t);
    for (const t of ['axb', 'xx', 'c1', 'd', 'e', 'fg', 'h', 'i', 'j']) assert.equal(m(t), false, t);
  });

  test('{user} is the user id put in literally; a * in an id matches only *', () => {
    assert.equal(topicMatcher(['user.{user}.*'], '42')('user.42.inbox'), true);
    assert.equal(topicMatcher(['user.{user}.*'], '42')('user.43.inbox'), false);
    assert.equal(topicMatcher(['u.{user}'], '*')('u.*'), true);
    assert.equal(topicMatcher(['u.{user}'], '*')('u.anyone'), false);
    assert.equal(topicMatcher(['u.{user}'], 'a.b')('u.axb'), false);
    // Without a user, patterns naming {user} match nothing (they are compiled per client).
    assert.equal(topicMatcher(['u.{user}'])('u.'), false);
    assert.equal(topicMatcher(['u.{user}'])('u.{user}'), false);
  });

  test('patterns a regex would backtrack on forever answer (a client chooses the topic)', () => {
    // With a RegExp these took seconds to minutes, holding the event loop; the test times out there.
    assert.equal(topicMatcher(['*.*.*.*.x'])('.'.repeat(251)), false);
    assert.equal(topicMatcher(['*a*a*a*a*b'])('a'.repeat(256)), false);
    assert.equal(topicMatcher(['*a*a*a*a*b'])(`${'a'.repeat(255)}b`), true);
  });

  test('no patterns match nothing; a lone * matches everything', () => {
    assert.equal(topicMatcher([])('x'), false);
    assert.equal(topicMatcher(['*'])(''), true);
  });
});

describe('rights', () => {
  const policy = new AccessPolicy({ publicTopics: ['news.*', 'user.{user}.*'], clientPublish: ['chat.*', 'room.{user}'] });

  test('public patterns, own {user} topics, registration topics and grants', () => {
    const r = policy.rights(7, ['secret.1'], ['team.7.*']);
    assert.equal(r.mayHold('news.a'), true);
    assert.equal(r.mayHold('user.7.inbox'), true);
    assert.equal(r.mayHold('user.8.inbox'), false);
    assert.equal(r.mayHold('secret.1'), true);
    assert.equal(r.mayHold('secret.2'), false);
    assert.equal(r.mayHold('team.7.x'), true);
    assert.equal(r.mayHold('team.8.x'), false);
    assert.equal(r.firstForbidden(['news.a', 'admin.audit', 'user.8.x']), 'admin.audit');
    assert.equal(r.firstForbidden(['news.a', 'secret.1']), undefined);
  });

  test('1 and "1" are the same user', () => {
    assert.equal(policy.rights(1, [], []).mayHold('user.1.x'), true);
    assert.equal(policy.rights('1', [], []).mayHold('user.1.x'), true);
  });

  test('publishing needs HERALD_CLIENT_PUBLISH and the right to read', () => {
    const r = new AccessPolicy({ publicTopics: ['chat.*', 'room.*'], clientPublish: ['chat.*', 'room.{user}'] }).rights(5, [], []);
    assert.equal(r.mayPublish('chat.x'), true);
    assert.equal(r.mayPublish('room.5'), true);
    assert.equal(r.mayPublish('room.6'), false);
    const reader = policy.rights(5, [], []);
    assert.equal(reader.mayPublish('chat.x'), false, 'chat.* is publishable but not readable here');
  });

  test('model: mayHold agrees with a naive reading of DESIGN.md 6', () => {
    // Small alphabets so that patterns and topics collide often.
    const word = fc.stringMatching(/^[ab.*]{0,4}$/);
    const pattern = fc.oneof(word, word.map((w) => `${w}{user}`), word.map((w) => `{user}${w}`));
    const naiveMatch = (p: string, t: string, user: string): boolean => {
      // Backtracking glob over the pattern with {user} substituted; `*` from the user id is literal.
      const tokens: Array<{ star: true } | { lit: string }> = [];
      for (const [i, part] of p.split('{user}').entries()) {
        if (i > 0) tokens.push({ lit: user });
        for (const [j, piece] of part.split('*').entries()) {
          if (j > 0) tokens.push({ star: true });
          if (piece) tokens.push({ lit: piece });
        }
      }
      const go = (k: number, pos: number): boolean => {
        if (k === tokens.length) return pos === t.length;
        const tok = tokens[k]!;
        if ('star' in tok) {
          for (let e = pos; e <= t.length; e++) if (go(k + 1, e)) return true;
          return false;
        }
        return t.startsWith(tok.lit, pos) && go(k + 1, pos + tok.lit.length);
      };
      return go(0, 0);
    };
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 3 }), fc.array(word, { maxLength: 2 }), fc.array(pattern, { maxLength: 2 }), fc.stringMatching(/^[ab*1]{1,2}$/), word, (pub, topics, grants, user, topic) => {
        const r = new AccessPolicy({ publicTopics: pub, clientPublish: [] }).rights(user, topics, grants);
        const naive = topics.includes(topic) || [...pub, ...grants].some((p) => naiveMatch(p, topic, user));
        assert.equal(r.mayHold(topic), naive);
      }),
      { numRuns: 2000 },
    );
  });
});
