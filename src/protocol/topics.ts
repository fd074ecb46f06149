// Topic-list validation shared by both wire protocols and the HTTP schemas.
import { describeValue } from './json-safety.js';

export interface TopicLimits {
  maxTopics: number;
  maxTopicLength: number;
}

export type TopicsCheck = { ok: true; topics: string[] } | { ok: false; code: 'invalid_topic' | 'too_many_topics'; message: string };

/** Checks an untrusted topic list; duplicates are removed, order kept. */
export function checkTopics(value: unknown, limits: TopicLimits): TopicsCheck {
  if (!Array.isArray(value)) return { ok: false, code: 'invalid_topic', message: `\`topics\` must be an array of strings, got ${describeValue(value)}` };
  const seen = new Set<string>();
  for (const t of value) {
    // Characters are code points, as the HTTP schemas count them ("😀" is one, .length says 2).
    if (typeof t !== 'string' || t.length === 0 || (t.length > limits.maxTopicLength && [...t].length > limits.maxTopicLength)) {
      return { ok: false, code: 'invalid_topic', message: `every topic must be a string of 1..${limits.maxTopicLength} characters, got ${describeValue(t)}` };
    }
    seen.add(t);
  }
  if (seen.size > limits.maxTopics) return { ok: false, code: 'too_many_topics', message: `at most ${limits.maxTopics} topics per client, got ${seen.size}` };
  return { ok: true, topics: [...seen] };
}
