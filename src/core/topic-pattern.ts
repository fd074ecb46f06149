// Topic patterns (DESIGN.md 6): `*` matches any run of characters; nothing else is special.
// `{user}` stands for a client's own user id, put in literally (a `*` in an id matches only `*`).

export type TopicTest = (topic: string) => boolean;

const never: TopicTest = () => false;
const always: TopicTest = () => true;

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One pattern as a regex source; `user` replaces `{user}` (patterns naming it need one). */
function source(pattern: string, user: string | undefined): string {
  const parts = pattern.split('{user}');
  const glob = (p: string): string => p.split('*').map(escapeRegex).join('.*');
  return parts.map(glob).join(user === undefined ? '' : escapeRegex(user));
}

/** Does a pattern depend on the client's user id? */
export function namesUser(pattern: string): boolean {
  return pattern.includes('{user}');
}

/**
 * Compiles patterns into one test. Patterns with `{user}` are left out unless `user` is given:
 * they are compiled per client, the others once per process.
 */
export function topicMatcher(patterns: readonly string[], user?: string): TopicTest {
  const used = user === undefined ? patterns.filter((p) => !namesUser(p)) : patterns;
  if (used.length === 0) return never;
  if (used.includes('*')) return always;
  const re = new RegExp(`^(?:${used.map((p) => source(p, user)).join('|')})$`, 's');
  return (topic) => re.test(topic);
}
