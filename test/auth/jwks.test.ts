import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, tokenFor, type TestApp } from '../harness/app.js';

let app: TestApp;
let jwksServer: Server;
let privateKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  jwksServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const { port } = jwksServer.address() as AddressInfo;
  app = await startTestApp({ JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`, JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: 'pulse' });
});
afterAll(async () => {
  await app.stop();
  await new Promise((resolve) => jwksServer.close(resolve));
});

function sign(claims: Record<string, unknown>, options: { issuer?: string; audience?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
    .setIssuer(options.issuer ?? 'https://idp.example')
    .setAudience(options.audience ?? 'pulse')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey);
}

describe('JWKS verification', () => {
  test('accepts a token signed by a key from JWKS_URL with the configured issuer and audience', async ({ tenant }) => {
    const token = await sign({ tenant_id: tenant.tenantId, role: 'customer', sub: 'idp-user' });
    const result = await app.gql(token, '{ devices { totalCount } }');
    expect(result).toEqual({ data: { devices: { totalCount: 0 } } });
  });

  test('refuses HS256 tokens, and tokens for another issuer or audience', async ({ tenant }) => {
    const claims = { tenant_id: tenant.tenantId, role: 'customer', sub: 'u' };
    for (const token of [await tokenFor(tenant.tenantId), await sign(claims, { issuer: 'https://evil.example' }), await sign(claims, { audience: 'other' })]) {
      const result = await app.gql(token, '{ devices { totalCount } }');
      expect(result.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'INVALID_TOKEN' });
    }
  });
});
