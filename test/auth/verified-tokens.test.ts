/**
 * The token verifier remembers tokens it verified (src/auth/jwt.ts), so a repeated token skips
 * the signature check; it must still refuse one the moment it expires, and never take a token
 * it did not verify for one it did.
 */
import { SignJWT } from 'jose';
import { describe, expect, test } from 'vitest';
import { AuthenticationError, createTokenVerifier, mintToken } from '../../src/auth/jwt.js';

const SECRET = 'verified-tokens-test-secret-0123456789abcdef';

function verifierAt(clock: { now: number }) {
  return createTokenVerifier({ auth: { kind: 'secret', secret: SECRET, isDevelopmentSecret: false } }, () => clock.now);
}

describe('verified tokens', () => {
  test('a repeated token gives the same principal, and a copy each time', async () => {
    const clock = { now: Date.now() };
    const verifier = verifierAt(clock);
    const token = await mintToken(SECRET, { tenantId: 'tenant-a', role: 'customer', subject: 'ada' }, '1h');
    const first = await verifier.verify(`Bearer ${token}`);
    first.tenantId = 'changed by a caller';
    const second = await verifier.verify(token);
    expect(second).toEqual({ tenantId: 'tenant-a', role: 'customer', subject: 'ada' });
  });

  test('a remembered token is refused once it expires', async () => {
    const clock = { now: Date.now() };
    const verifier = verifierAt(clock);
    const token = await mintToken(SECRET, { tenantId: 'tenant-a', role: 'customer', subject: 'ada' }, '60s');
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: 'ada' });
    clock.now += 61_000;
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'EXPIRED_TOKEN' });
  });

  test('a token that differs from a remembered one in any byte is verified on its own', async () => {
    const clock = { now: Date.now() };
    const verifier = verifierAt(clock);
    const token = await mintToken(SECRET, { tenantId: 'tenant-a', role: 'customer', subject: 'ada' }, '1h');
    await verifier.verify(token);
    const [header, , signature] = token.split('.');
    const otherClaims = Buffer.from(JSON.stringify({ tenant_id: 'tenant-b', role: 'customer', sub: 'ada', exp: Math.floor(clock.now / 1000) + 3600 })).toString('base64url');
    const forged = `${header}.${otherClaims}.${signature}`;
    await expect(verifier.verify(forged)).rejects.toBeInstanceOf(AuthenticationError);
    const wrongKey = await new SignJWT({ tenant_id: 'tenant-b', role: 'customer' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('ada')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-0123456789abcdef0123456789'));
    await expect(verifier.verify(wrongKey)).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
  });
});
