// Topic patterns (DESIGN.md 6): `*` matches any run of characters; nothing else is special.
// `{user}` stands for a client's own user id, put in literally (a `*` in an id matches only `*`).
//
// Matching is not done with a RegExp: `*.*.*.*.x` as a regex backtracks exponentially on a
// topic of dots, and a client chooses the topic. A glob of literal pieces is matched greedily
// instead (each piece at its first place after the previous one), which is correct for `*`-only
// globs and takes time linear in the topic per piece.

export type TopicTest = (topic: string) => boolean;

const never: TopicTest = () => false;
const always: TopicTest = () => true;

/** A pattern as the literal pieces between its `*`s. */
type Glob = readonly string[];

/** Does a pattern depend on the client's user id? */
export function namesUser(pattern: string): boolean {
  return pattern.includes('{user}');
}

/** Splits on `*` after putting the user id in: the id's own `*`s stay literal. */
function compile(pattern: string, user: string | undefined): Glob {
  const parts = pattern.split('{user}').map((p) => p.split('*'));
  const out: string[] = [];
  parts.forEach((pieces, i) => {
    pieces.forEach((piece, j) => {
      // The first piece of each part joins the previous piece across `{user}`.
      if (j === 0 && i > 0) out[out.length - 1] += (user ?? '') + piece;
      else out.push(piece);
    });
  });
  return out;
}

export function globMatch(glob: Glob, topic: string): boolean {
  if (glob.length === 1) return topic === glob[0];
  const first = glob[0]!;
  const last = glob[glob.length - 1]!;
  if (topic.length < first.length + last.length || !topic.startsWith(first) || !topic.endsWith(last)) return false;
  let at = first.length;
  const end = topic.length - last.length;
  for (let i = 1; i < glob.length - 1; i++) {
    const piece = glob[i]!;
    const found = topic.indexOf(piece, at);
    if (found < 0 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

/**
 * Compiles patterns into one test. Patterns with `{user}` are left out unless `user` is given:
 * they are compiled per client, the others once per process.
 */
export function topicMatcher(patterns: readonly string[], user?: string): TopicTest {
  const used = user === undefined ? patterns.filter((p) => !namesUser(p)) : patterns;
  if (used.length === 0) return never;
  if (used.includes('*')) return always;
  const globs = used.map((p) => compile(p, user));
  const exact = new Set(globs.filter((g) => g.length === 1).map((g) => g[0]!));
  const wild = globs.filter((g) => g.length > 1);
  return (topic) => exact.has(topic) || wild.some((g) => globMatch(g, topic));
}
