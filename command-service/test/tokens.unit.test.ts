/**
 * Token verification: HS256 with a shared secret and RS256 with public keys, by configuration; expired, tampered,
 * wrongly-signed, badly-claimed, never-expiring and too long-lived tokens are refused with their own codes;
 * permissions match ids and prefixes.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, importPKCS8 } from 'jose';
import { can, signDevToken, TokenVerifier } from '../src/auth/tokens.js';
import { ProtocolError } from '../src/protocol/errors.js';

const SECRET = 'a-test-secret-of-at-least-32-chars!!';

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof ProtocolError && err.code === code);
}

describe('TokenVerifier', () => {
  it('accepts an HS256 dev token and reads the user and grants', async () => {
    const verifier = await TokenVerifier.create({ hs256Secret: SECRET });
    const principal = await verifier.verify(
      await signDevToken({
        secret: SECRET,
        userId: 'alice',
        name: 'Alice',
        docs: { 'notes/*': ['read', 'write'], handbook: ['read'] },
      }),
    );
    assert.equal(principal.userId, 'alice');
    assert.equal(principal.name, 'Alice');
    assert.ok(can(principal, 'write', 'notes/today'));
    assert.ok(can(principal, 'read', 'handbook'));
    assert.ok(!can(principal, 'write', 'handbook'));
    assert.ok(!can(principal, 'read', 'handbook2'), 'an exact id is not a prefix');
    assert.ok(!can(principal, 'read', 'secret'));
  });

  it('accepts RS256 tokens signed by any configured key, and refuses other keys', async () => {
    const pair = () =>
      generateKeyPairSync('rsa', {
        modulusLength: 2048,
        publicKeyEncoding: { type: 'spki', format: 'pem' },
        privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      });
    const [a, b, stranger] = [pair(), pair(), pair()];
    const verifier = await TokenVerifier.create({
      rs256PublicKeys: [a.publicKey, b.publicKey],
      issuer: 'idp',
      audience: 'collab',
    });
    const sign = async (privateKey: string, claims: Record<string, unknown> = {}) =>
      new SignJWT({ docs: { '*': ['read'] }, ...claims })
        .setProtectedHeader({ alg: 'RS256' })
        .setSubject('bob')
        .setIssuer('idp')
        .setAudience('collab')
        .setExpirationTime('1h')
        .sign(await importPKCS8(privateKey, 'RS256'));
    assert.equal((await verifier.verify(await sign(a.privateKey))).userId, 'bob');
    assert.equal((await verifier.verify(await sign(b.privateKey))).userId, 'bob');
    await rejects(verifier.verify(await sign(stranger.privateKey)), 'ERR_TOKEN_INVALID');
    // An HS256 token is refused by an RS256-only verifier (no algorithm confusion).
    await rejects(
      verifier.verify(await signDevToken({ secret: SECRET, userId: 'eve', docs: { '*': ['read'] } })),
      'ERR_TOKEN_INVALID',
    );
  });

  it('refuses expired, tampered and badly-claimed tokens with their codes', async () => {
    const verifier = await TokenVerifier.create({ hs256Secret: SECRET });
    await rejects(
      verifier.verify(await signDevToken({ secret: SECRET, userId: 'a', docs: {}, expiresIn: '-1s' })),
      'ERR_TOKEN_EXPIRED',
    );
    const good = await signDevToken({ secret: SECRET, userId: 'a', docs: { x: ['read'] } });
    const [h, , s] = good.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'admin', docs: { '*': ['read', 'write'] } })).toString(
      'base64url',
    );
    await rejects(verifier.verify(`${h}.${forged}.${s}`), 'ERR_TOKEN_INVALID');
    await rejects(
      verifier.verify(await signDevToken({ secret: 'another-secret-of-at-least-32-chars!', userId: 'a', docs: {} })),
      'ERR_TOKEN_INVALID',
    );
    const noDocs = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('a')
      .sign(new TextEncoder().encode(SECRET));
    await rejects(verifier.verify(noDocs), 'ERR_TOKEN_INVALID');
    await rejects(verifier.verify('not-a-jwt'), 'ERR_TOKEN_INVALID');
  });

  describe('lifetime: every token expires, within the configured maximum', () => {
    const hs = (claims: Record<string, unknown>, build: (j: SignJWT) => SignJWT) =>
      build(
        new SignJWT({ docs: { '*': ['read'] }, ...claims }).setProtectedHeader({ alg: 'HS256' }).setSubject('a'),
      ).sign(new TextEncoder().encode(SECRET));

    it('refuses a token without exp, naming the rule', async () => {
      const verifier = await TokenVerifier.create({ hs256Secret: SECRET });
      const noExp = await hs({}, (j) => j.setIssuedAt());
      await assert.rejects(
        verifier.verify(noExp),
        (err: unknown) =>
          err instanceof ProtocolError && err.code === 'ERR_TOKEN_INVALID' && /no expiry/.test(err.message),
      );
    });

    it('refuses a token valid for longer than the maximum (counted from iat, or from now without one)', async () => {
      const verifier = await TokenVerifier.create({ hs256Secret: SECRET, maxLifetimeSeconds: 3600 });
      await rejects(verifier.verify(await hs({}, (j) => j.setIssuedAt().setExpirationTime('2h'))), 'ERR_TOKEN_INVALID');
      await rejects(verifier.verify(await hs({}, (j) => j.setExpirationTime('2h'))), 'ERR_TOKEN_INVALID');
      // Issued 90 minutes ago for two hours: half an hour left, but a two-hour token all the same.
      const now = Math.floor(Date.now() / 1000);
      await rejects(
        verifier.verify(await hs({}, (j) => j.setIssuedAt(now - 5400).setExpirationTime(now + 1800))),
        'ERR_TOKEN_INVALID',
      );
      const ok = await verifier.verify(await hs({}, (j) => j.setIssuedAt().setExpirationTime('1h')));
      assert.ok(Math.abs(ok.expiresAt - (now + 3600) * 1000) <= 2000);
    });

    it('accepts the dev tokens (12 h) under the default maximum (24 h), and refuses a week', async () => {
      const verifier = await TokenVerifier.create({ hs256Secret: SECRET });
      await verifier.verify(await signDevToken({ secret: SECRET, userId: 'a', docs: {} }));
      await rejects(
        verifier.verify(await signDevToken({ secret: SECRET, userId: 'a', docs: {}, expiresIn: '7d' })),
        'ERR_TOKEN_INVALID',
      );
    });
  });

  it('refuses a subject or name with an unpaired surrogate (it would be stored as another id)', async () => {
    const verifier = await TokenVerifier.create({ hs256Secret: SECRET });
    await rejects(
      verifier.verify(await signDevToken({ secret: SECRET, userId: 'ali\ud800ce', docs: {} })),
      'ERR_TOKEN_INVALID',
    );
    await rejects(
      verifier.verify(await signDevToken({ secret: SECRET, userId: 'alice', name: '\udc00', docs: {} })),
      'ERR_TOKEN_INVALID',
    );
    assert.equal(
      (await verifier.verify(await signDevToken({ secret: SECRET, userId: 'ali😀', docs: {} }))).userId,
      'ali😀',
    );
  });

  it('needs a secret or a public key', async () => {
    await assert.rejects(TokenVerifier.create({}), /HS256 secret or at least one RS256 public key/);
  });
});
