import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../harness/app.js';
import { DEVICES } from '../harness/operations.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

async function sign(claims: Record<string, unknown>, secret = TEST_JWT_SECRET, expiresIn: string | number = '1h'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(expiresIn).sign(new TextEncoder().encode(secret));
}

type Reply = { status: number; body: { data?: unknown; errors?: Array<{ message: string; extensions: Record<string, unknown> }> } };

async function post(token: string | null): Promise<Reply> {
  const response = await app.pulse.app.yoga.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token !== null ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: DEVICES }),
  });
  return { status: response.status, body: (await response.json()) as Reply['body'] };
}

describe('authentication', () => {
  test('no token is refused with 401 and a clear message', async () => {
    const { status, body } = await post(null);
    expect(status).toBe(401);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]).toMatchObject({ message: expect.stringMatching(/Authorization: Bearer/), extensions: { code: 'UNAUTHENTICATED', reason: 'MISSING_TOKEN' } });
  });

  test.for([
    ['garbage', async (): Promise<string> => 'not.a.jwt'],
    ['wrong secret', async (): Promise<string> => sign({ tenant_id: 't1', role: 'customer', sub: 'u' }, 'another-secret-that-is-long-enough-0000')],
    ['alg none', async (): Promise<string> => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"tenant_id":"t1","role":"customer","sub":"u"}').toString('base64url')}.`],
  ] as const)('%s is refused as INVALID_TOKEN', async ([, make]) => {
    const { status, body } = await post(await make());
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'INVALID_TOKEN' });
  });

  test('an expired token is refused as EXPIRED_TOKEN', async () => {
    const token = await sign({ tenant_id: 't1', role: 'customer', sub: 'u' }, TEST_JWT_SECRET, Math.floor(Date.now() / 1000) - 60);
    const { status, body } = await post(token);
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions).toMatchObject({ reason: 'EXPIRED_TOKEN' });
  });

  test.for([
    ['missing tenant', { role: 'customer', sub: 'u' }],
    ['unknown role', { tenant_id: 't1', role: 'admin', sub: 'u' }],
    ['tenant with a slash', { tenant_id: 'a/b', role: 'customer', sub: 'u' }],
    ['missing subject', { tenant_id: 't1', role: 'customer' }],
  ] as const)('%s is refused as INVALID_CLAIMS', async ([, claims]) => {
    const { status, body } = await post(await sign(claims));
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions).toMatchObject({ reason: 'INVALID_CLAIMS' });
  });

  test('a valid token is accepted', async ({ tenant }) => {
    const { status, body } = await post(tenant.token);
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
  });
});
