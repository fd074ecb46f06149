// Every WebSocket close code Herald sends, in one place (documented in DESIGN.md section 2).
// `reconnect` tells a client whether trying again can help.
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  invalidPayload: 1007,
  policy: 1008,
  tooLarge: 1009,
  internal: 1011,
  replaced: 4000,
  unregistered: 4001,
  tokenExpired: 4003,
  slowConsumer: 4008,
} as const;

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/** Codes after which a client must not reconnect with the same registration. */
export const finalCloseCodes: ReadonlySet<number> = new Set([CloseCode.replaced, CloseCode.unregistered]);
