// Untrusted JSON, handled without recursion on its shape: its nesting depth is measured on the
// text before it is parsed, and a value is named in a diagnostic by its type or a short prefix,
// never serialized whole (JSON.stringify of a deeply nested value overflows the stack).

/** Default for HERALD_MAX_JSON_DEPTH: deeper than any real message, far from any stack limit. */
export const DEFAULT_MAX_JSON_DEPTH = 64;

/**
 * True when the JSON text nests arrays/objects deeper than `max` (the outermost counts as 1).
 * Brackets inside strings do not count. A linear scan; invalid JSON is left to JSON.parse.
 */
export function nestedDeeperThan(text: string, max: number): boolean {
  // Each level needs an opening bracket: a short text cannot be deep.
  if (text.length <= max) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Jump to the string's end (most of a message's text is in strings): a quote closes it
      // unless an odd run of backslashes escapes it.
      i = stringEnd(text, i);
      if (i < 0) return false; // unterminated: JSON.parse refuses it
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return true;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return false;
}

/** Index of the quote that closes the string opened at `open`, or -1. */
function stringEnd(text: string, open: number): number {
  let from = open + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return -1;
    let k = q - 1;
    while (k > open && text.charCodeAt(k) === 0x5c /* \ */) k--;
    if ((q - 1 - k) % 2 === 0) return q;
    from = q + 1;
  }
}

/** Names an untrusted value for an error message: its type, or a capped prefix of a string or number. */
export function describeValue(value: unknown, max = 40): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return value.length > max ? `${JSON.stringify(value.slice(0, max))}…` : JSON.stringify(value);
    case 'number':
    case 'boolean':
      return String(value).slice(0, max);
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}
