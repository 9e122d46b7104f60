/**
 * JWT authentication. Tokens carry who the user is (`sub`, optional `name`) and what they may do with which
 * documents (`docs`: document id or prefix pattern → permissions). HS256 with a shared secret, RS256 with
 * public keys, and RS256/ES256 with an identity provider's JWKS are accepted, by configuration; anything else is
 * refused.
 *
 * Every token must expire (`exp`), within a maximum lifetime: a connection's access follows its token, and a
 * token that never expires (or expires in a year) would be a grant nobody can take back. The lifetime counts from
 * `iat` when the token has one (or from now, if `iat` is in the future), with a minute of slack for clocks.
 */
import type { CryptoKey, JWTPayload, JWTVerifyGetKey } from 'jose';
import { createRemoteJWKSet, errors as joseErrors, importSPKI, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import { ProtocolError } from '../protocol/errors.js';
import { hasLoneSurrogate, UNPAIRED_SURROGATE } from '@collab/protocol';

export type Permission = 'read' | 'write' | 'comment';

export interface Principal {
  userId: string;
  name: string | undefined;
  /** Pattern → permissions. A pattern is an exact document id, or a prefix ending in `*` (`*` alone: all). */
  grants: ReadonlyArray<{ pattern: string; permissions: ReadonlySet<Permission> }>;
  /** When the token expires (ms since epoch): access stops then, until the connection authenticates again. */
  expiresAt: number;
}

/** The default longest lifetime of an accepted token: a working day and then some. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;
/** Issuers' and servers' clocks differ a little: a token may outlive the maximum by this much. */
const CLOCK_SLACK_SECONDS = 60;

const wellFormed = (s: string) => !hasLoneSurrogate(s);
const Claims = z.object({
  sub: z.string().min(1).max(256).refine(wellFormed, UNPAIRED_SURROGATE),
  name: z.string().max(256).refine(wellFormed, UNPAIRED_SURROGATE).optional(),
  docs: z.record(z.string().min(1).max(256), z.array(z.enum(['read', 'write', 'comment'])).max(3)),
});

export interface TokenVerifierConfig {
  /** HS256 shared secret (at least 32 bytes). */
  hs256Secret?: string;
  /** RS256 public keys, PEM (SPKI). Any of them may have signed the token. */
  rs256PublicKeys?: string[];
  issuer?: string;
  audience?: string;
  /** Tokens valid for longer than this (exp − iat) are refused. Default DEFAULT_MAX_TOKEN_LIFETIME_SECONDS. */
  maxLifetimeSeconds?: number;
  /**
   * An identity provider's signing keys (a JWKS URL, RS256 or ES256). The token's `kid` picks the key. The set is
   * cached for `cacheMaxAgeMs` (default 10 min); a kid not in it refetches the set, at most once per `cooldownMs`
   * (default 30 s), which is how a rotated-in key is picked up without letting made-up kids flood the provider.
   */
  jwks?: { url: string; cacheMaxAgeMs?: number; cooldownMs?: number; timeoutMs?: number };
}

/** Asymmetric only: a JWKS never holds a shared secret we would accept. */
const JWKS_ALGORITHMS = ['RS256', 'ES256'];

/** jose's failures to obtain the key set (not a verdict on the token): the provider is unreachable or broken. */
const isJwksFetchFailure = (err: unknown): boolean =>
  err instanceof joseErrors.JWKSTimeout ||
  err instanceof joseErrors.JWKSInvalid ||
  (err instanceof TypeError && /fetch/i.test(err.message)) ||
  (err instanceof joseErrors.JOSEError && /JSON Web Key Set HTTP response/.test(err.message));

export class TokenVerifier {
  private constructor(
    private readonly secret: Uint8Array | undefined,
    private readonly publicKeys: CryptoKey[],
    private readonly config: TokenVerifierConfig,
    private readonly jwks: JWTVerifyGetKey | undefined,
  ) {}

  static async create(config: TokenVerifierConfig): Promise<TokenVerifier> {
    if (config.hs256Secret === undefined && (config.rs256PublicKeys ?? []).length === 0 && config.jwks === undefined) {
      throw new Error('Token verification needs an HS256 secret or at least one RS256 public key (or a JWKS URL).');
    }
    const keys = await Promise.all((config.rs256PublicKeys ?? []).map((pem) => importSPKI(pem, 'RS256')));
    const secret = config.hs256Secret === undefined ? undefined : new TextEncoder().encode(config.hs256Secret);
    const jwks =
      config.jwks === undefined
        ? undefined
        : createRemoteJWKSet(new URL(config.jwks.url), {
            ...(config.jwks.cacheMaxAgeMs === undefined ? {} : { cacheMaxAge: config.jwks.cacheMaxAgeMs }),
            ...(config.jwks.cooldownMs === undefined ? {} : { cooldownDuration: config.jwks.cooldownMs }),
            ...(config.jwks.timeoutMs === undefined ? {} : { timeoutDuration: config.jwks.timeoutMs }),
          });
    return new TokenVerifier(secret, keys, config, jwks);
  }

  /**
   * The principal a token names; throws ProtocolError ERR_TOKEN_EXPIRED / ERR_TOKEN_INVALID, or ERR_UNAVAILABLE
   * when the identity provider's keys cannot be fetched.
   */
  async verify(token: string): Promise<Principal> {
    const candidates: Array<[Uint8Array | CryptoKey | JWTVerifyGetKey, string[]]> = [
      ...(this.secret === undefined ? [] : [[this.secret, ['HS256']] as [Uint8Array, string[]]]),
      ...this.publicKeys.map((k) => [k, ['RS256']] as [CryptoKey, string[]]),
      ...(this.jwks === undefined ? [] : [[this.jwks, JWKS_ALGORITHMS] as [JWTVerifyGetKey, string[]]]),
    ];
    let lastError: unknown;
    for (const [key, algorithms] of candidates) {
      try {
        const options = {
          algorithms,
          ...(this.config.issuer === undefined ? {} : { issuer: this.config.issuer }),
          ...(this.config.audience === undefined ? {} : { audience: this.config.audience }),
        };
        const { payload } =
          typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
        return toPrincipal(payload, this.config.maxLifetimeSeconds ?? DEFAULT_MAX_TOKEN_LIFETIME_SECONDS);
      } catch (err) {
        if (err instanceof joseErrors.JWTExpired)
          throw new ProtocolError('ERR_TOKEN_EXPIRED', 'The token has expired; get a new one.');
        if (err instanceof ProtocolError) throw err;
        if (isJwksFetchFailure(err)) {
          throw new ProtocolError('ERR_UNAVAILABLE', "The identity provider's signing keys cannot be fetched; retry.");
        }
        lastError = err;
      }
    }
    const reason = lastError instanceof Error ? lastError.message : 'unknown reason';
    throw new ProtocolError('ERR_TOKEN_INVALID', `The token is not valid: ${reason}.`);
  }
}

function toPrincipal(payload: JWTPayload, maxLifetimeSeconds: number): Principal {
  const { exp, iat } = payload;
  if (exp === undefined) {
    throw new ProtocolError(
      'ERR_TOKEN_INVALID',
      `The token has no expiry (exp); tokens must expire within ${maxLifetimeSeconds} s.`,
    );
  }
  const now = Date.now() / 1000;
  const lifetime = exp - Math.min(iat ?? now, now);
  if (lifetime > maxLifetimeSeconds + CLOCK_SLACK_SECONDS) {
    throw new ProtocolError(
      'ERR_TOKEN_INVALID',
      `The token is valid for ${Math.round(lifetime)} s; this server accepts tokens valid for at most ${maxLifetimeSeconds} s.`,
    );
  }
  const parsed = Claims.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProtocolError(
      'ERR_TOKEN_INVALID',
      `The token's claims are not valid: ${issue ? `${issue.path.join('.') || 'claims'}: ${issue.message}` : 'unknown'}.`,
    );
  }
  return {
    userId: parsed.data.sub,
    name: parsed.data.name,
    grants: Object.entries(parsed.data.docs).map(([pattern, permissions]) => ({
      pattern,
      permissions: new Set(permissions),
    })),
    expiresAt: exp * 1000,
  };
}

export function can(principal: Principal, permission: Permission, docId: string): boolean {
  return principal.grants.some(
    ({ pattern, permissions }) =>
      permissions.has(permission) &&
      (pattern === docId || (pattern.endsWith('*') && docId.startsWith(pattern.slice(0, -1)))),
  );
}

/** A development token signed with the HS256 secret. Never use in production: it grants what you ask. */
export async function signDevToken(options: {
  secret: string;
  userId: string;
  name?: string;
  docs: Record<string, Permission[]>;
  expiresIn?: string;
  issuer?: string;
  audience?: string;
}): Promise<string> {
  let jwt = new SignJWT({ docs: options.docs, ...(options.name === undefined ? {} : { name: options.name }) })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(options.userId)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '12h');
  if (options.issuer !== undefined) jwt = jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
