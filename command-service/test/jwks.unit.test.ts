/**
 * Tokens from an identity provider: a real HTTP server on 127.0.0.1 serves a JWKS; the verifier picks the key by
 * `kid`, picks up a key rotated in, drops a key rotated out once its cache ages, refuses unknown kids without
 * letting them hammer the provider, refuses the HS256-with-the-public-key confusion, and tells an unreachable
 * provider (retriable) apart from a bad token.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { TokenVerifier, type TokenVerifierConfig } from '../src/auth/tokens.js';
import { ProtocolError } from '../src/protocol/errors.js';

type Pair = Awaited<ReturnType<typeof generateKeyPair>>;
interface Key {
  kid: string;
  alg: 'RS256' | 'ES256';
  pair: Pair;
}

async function newKey(kid: string, alg: Key['alg']): Promise<Key> {
  return { kid, alg, pair: await generateKeyPair(alg, { extractable: true }) };
}

/** The identity provider: serves `keys` as a JWKS (or `status`), counting the fetches. */
class IdentityProvider {
  keys: Key[] = [];
  status = 200;
  fetches = 0;
  private readonly server: Server = createServer((req, res) => {
    this.fetches += 1;
    void this.body().then((body) => {
      res.writeHead(this.status, { 'content-type': 'application/json' });
      res.end(this.status === 200 ? body : '{"error":"down"}');
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async body(): Promise<string> {
    const keys: JWK[] = await Promise.all(
      this.keys.map(async (k) => ({ ...(await exportJWK(k.pair.publicKey)), kid: k.kid, alg: k.alg, use: 'sig' })),
    );
    return JSON.stringify({ keys });
  }
}

const sign = (key: Key, headerKid = key.kid) =>
  new SignJWT({ docs: { '*': ['read'] } })
    .setProtectedHeader({ alg: key.alg, kid: headerKid })
    .setSubject(`user-of-${key.kid}`)
    .setIssuer('https://idp.example')
    .setAudience('collab')
    .setExpirationTime('5m')
    .sign(key.pair.privateKey);

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof ProtocolError && err.code === code);
}

describe('TokenVerifier with a JWKS URL', function () {
  let idp: IdentityProvider;
  let url: string;
  let a: Key;
  let b: Key;
  const verifier = (jwks: Partial<NonNullable<TokenVerifierConfig['jwks']>> = {}) =>
    TokenVerifier.create({ jwks: { url, ...jwks }, issuer: 'https://idp.example', audience: 'collab' });

  before(async function () {
    [a, b] = await Promise.all([newKey('key-a', 'RS256'), newKey('key-b', 'ES256')]);
  });
  beforeEach(async function () {
    idp = new IdentityProvider();
    idp.keys = [a, b];
    url = await idp.start();
  });
  afterEach(() => idp.stop());

  it('verifies tokens signed with either key, choosing the key by kid, and fetches the set once', async function () {
    const v = await verifier();
    assert.equal((await v.verify(await sign(a))).userId, 'user-of-key-a');
    assert.equal((await v.verify(await sign(b))).userId, 'user-of-key-b');
    assert.equal((await v.verify(await sign(a))).userId, 'user-of-key-a');
    assert.equal(idp.fetches, 1, 'the set is cached');
    // Signed by a but naming b's kid: b's key is the one tried, and it does not match.
    await rejects(v.verify(await sign({ ...a, alg: 'RS256' }, 'key-b')), 'ERR_TOKEN_INVALID');
  });

  it('picks up a key rotated in: an unknown kid refetches the set', async function () {
    const v = await verifier({ cooldownMs: 0 });
    assert.equal((await v.verify(await sign(a))).userId, 'user-of-key-a');
    const c = await newKey('key-c', 'RS256');
    idp.keys = [b, c];
    assert.equal((await v.verify(await sign(c))).userId, 'user-of-key-c');
    assert.equal(idp.fetches, 2);
  });

  it('refuses an unknown kid even after refetching', async function () {
    const v = await verifier({ cooldownMs: 0 });
    const stranger = await newKey('key-stranger', 'RS256');
    await rejects(v.verify(await sign(stranger)), 'ERR_TOKEN_INVALID');
    // Right kid, wrong key: a token forged under a known kid.
    await rejects(v.verify(await sign({ ...stranger, kid: 'key-a' })), 'ERR_TOKEN_INVALID');
  });

  it('does not let a flood of made-up kids refetch the set within the cooldown', async function () {
    const v = await verifier({ cooldownMs: 600_000 });
    await v.verify(await sign(a));
    for (let i = 0; i < 20; i++) {
      await rejects(v.verify(await sign({ ...a, kid: `made-up-${i}` })), 'ERR_TOKEN_INVALID');
    }
    assert.equal(idp.fetches, 1);
  });

  it('drops a key rotated out once the cached set has aged', async function () {
    const v = await verifier({ cacheMaxAgeMs: 0 });
    assert.equal((await v.verify(await sign(a))).userId, 'user-of-key-a');
    idp.keys = [b];
    await rejects(v.verify(await sign(a)), 'ERR_TOKEN_INVALID');
  });

  it('refuses HS256 signed with a public key as the secret, without fetching anything', async function () {
    const v = await verifier();
    const jwk = await exportJWK(a.pair.publicKey);
    const forged = await new SignJWT({ docs: { '*': ['read', 'write'] } })
      .setProtectedHeader({ alg: 'HS256', kid: 'key-a' })
      .setSubject('mallory')
      .setIssuer('https://idp.example')
      .setAudience('collab')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(jwk)));
    await rejects(v.verify(forged), 'ERR_TOKEN_INVALID');
    assert.equal(idp.fetches, 0);
  });

  it('reports an unreachable or failing provider as ERR_UNAVAILABLE (retriable), not as a bad token', async function () {
    idp.status = 500;
    const v = await verifier();
    await assert.rejects(
      v.verify(await sign(a)),
      (err: unknown) => err instanceof ProtocolError && err.code === 'ERR_UNAVAILABLE' && err.retriable,
    );
    await idp.stop();
    const gone = await verifier();
    await rejects(gone.verify(await sign(a)), 'ERR_UNAVAILABLE');
    idp = new IdentityProvider(); // afterEach stops a fresh one
    await idp.start();
  });
});
