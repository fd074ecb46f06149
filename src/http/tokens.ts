// Connection tokens (DESIGN.md 7): JWTs the backend signs, verified with jose. Only this file
// sees a JWT; the relay gets a TokenGrant (user, topics, grants, expiry).
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { errors, jwtVerify, type JWSAlgorithm, type JWTPayload, type JWTVerifyOptions } from 'jose';
import type { Config } from '../config.js';
import { ConfigError } from '../config.js';
import type { TokenGrant } from '../core/identity.js';
import { checkTopics } from '../protocol/topics.js';
import { HeraldError } from '../errors.js';

/** A token is a URL parameter and a frame field: longer than this is not a token we made. */
export const MAX_TOKEN_LENGTH = 8192;

type Verify = (token: string) => Promise<TokenGrant>;

/** Clocks of the backend and of Herald may differ this much. */
const CLOCK_SKEW_MS = 60_000;

/** The public key's algorithm follows from its type: RSA -> RS256, P-256 -> ES256, Ed25519 -> EdDSA. */
function algorithmOf(key: KeyObject, file: string): JWSAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return 'RS256';
  if (type === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  if (type === 'ed25519') return 'EdDSA';
  throw new ConfigError(`HERALD_TOKEN_PUBLIC_KEY (${file}) must be an RSA, P-256 or Ed25519 public key, got ${type}`);
}

function readPublicKey(file: string): { key: KeyObject; alg: JWSAlgorithm } {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`HERALD_TOKEN_PUBLIC_KEY: cannot read ${file}: ${(err as Error).message}`);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new ConfigError(`HERALD_TOKEN_PUBLIC_KEY: ${file} is not a PEM public key`);
  }
  return { key, alg: algorithmOf(key, file) };
}

/**
 * The verifier of this server's configuration, or undefined when tokens are off. Throws
 * ConfigError at start-up for a key that cannot be used.
 */
export function tokenVerifier(config: Config): Verify | undefined {
  const keys = new Map<JWSAlgorithm, KeyObject | Uint8Array>();
  if (config.tokenSecret !== undefined) keys.set('HS256', new TextEncoder().encode(config.tokenSecret));
  if (config.tokenPublicKey !== undefined) {
    const { key, alg } = readPublicKey(config.tokenPublicKey);
    keys.set(alg, key);
  }
  if (keys.size === 0) return undefined;
  const options: JWTVerifyOptions = { algorithms: [...keys.keys()], requiredClaims: ['sub', 'exp'] };
  if (config.tokenAudience !== undefined) options.audience = config.tokenAudience;
  if (config.tokenIssuer !== undefined) options.issuer = config.tokenIssuer;
  return async (token) => {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH) throw new HeraldError('invalid_token', `A token is a JWT of at most ${MAX_TOKEN_LENGTH} characters.`);
    let payload: JWTPayload;
    try {
      // The algorithm list refuses alg:none and any algorithm we hold no key for.
      ({ payload } = await jwtVerify(token, (header) => keys.get(header.alg as JWSAlgorithm) ?? new Uint8Array(0), options));
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new HeraldError('token_expired');
      const why = err instanceof errors.JOSEError ? err.message : 'unreadable token';
      throw new HeraldError('invalid_token', `The connection token is not valid: ${why}.`);
    }
    return grantOf(payload, config, Date.now());
  };
}

/** The claims Herald reads, each checked: a signed token can still carry nonsense. */
function grantOf(p: JWTPayload, limits: Pick<Config, 'maxTopics' | 'maxTopicLength' | 'revocationTtlMs'>, now: number): TokenGrant {
  const bad = (what: string): never => {
    throw new HeraldError('invalid_token', `The connection token is not valid: ${what}.`);
  };
  if (typeof p.sub !== 'string' || p.sub.length === 0 || p.sub.length > 128) bad('`sub` must be the user id, 1..128 characters');
  // A revocation compares `iat`, and holds for HERALD_REVOCATION_TTL: a token issued "later"
  // than now, or living longer than that, would outlive the revocation of its user.
  if (typeof p.iat === 'number' && p.iat * 1000 > now + CLOCK_SKEW_MS) bad('`iat` is in the future');
  if (p.exp! * 1000 > now + limits.revocationTtlMs + CLOCK_SKEW_MS) bad(`the token lives longer than HERALD_REVOCATION_TTL (${Math.round(limits.revocationTtlMs / 1000)} s): sign shorter tokens and refresh them, or raise the setting`);
  const list = (name: 'topics' | 'grants'): string[] => {
    const v = (p as Record<string, unknown>)[name];
    if (v === undefined) return [];
    const check = checkTopics(v, limits);
    if (!check.ok) return bad(`\`${name}\`: ${check.message}`);
    return check.topics;
  };
  return { user: p.sub!, topics: list('topics'), grants: list('grants'), expiresAt: p.exp! * 1000, issuedAt: typeof p.iat === 'number' ? p.iat : undefined };
}
