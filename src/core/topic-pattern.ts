/** Compiles topic patterns like `chat.*` (`*` matches any run of characters) into one test. */
export function topicMatcher(patterns: string[]): (topic: string) => boolean {
  if (patterns.length === 0) return () => false;
  const escape = (p: string): string => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  const re = new RegExp(`^(?:${patterns.map(escape).join('|')})$`, 's');
  return (topic) => re.test(topic);
}
