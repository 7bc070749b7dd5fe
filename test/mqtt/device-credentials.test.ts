import { describe, expect, it } from 'vitest';
import {
  DEVICE_SCRYPT_PARAMS,
  deviceUsername,
  dummyVerify,
  generateDeviceCredentials,
  hashDevicePassword,
  parseDeviceUsername,
  verifyDevicePassword,
} from '../../src/auth/device-credentials.js';

describe('device credentials', () => {
  it('derives the username from the IDs and draws a 32-byte base64url password', () => {
    const a = generateDeviceCredentials('acme:eu', 'ap.01');
    const b = generateDeviceCredentials('acme:eu', 'ap.01');
    expect(a.username).toBe('acme:eu/ap.01');
    expect(b.username).toBe(a.username);
    expect(a.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a.password, 'base64url')).toHaveLength(32);
    expect(b.password).not.toBe(a.password);
  });

  it('keeps usernames unambiguous even though IDs may contain ":"', () => {
    expect(deviceUsername('a:b', 'c')).not.toBe(deviceUsername('a', 'b:c'));
    expect(parseDeviceUsername('a:b/c')).toEqual({ tenantId: 'a:b', deviceId: 'c' });
    expect(parseDeviceUsername('a/b/c')).toBeNull();
    expect(parseDeviceUsername('service')).toBeNull();
    expect(parseDeviceUsername('+/d')).toBeNull();
    expect(() => generateDeviceCredentials('t/1', 'd')).toThrow(TypeError);
  });

  it('hashes in the self-describing scrypt format with a random salt', async () => {
    const hash = await hashDevicePassword('secret');
    const [scheme, N, r, p, salt, key] = hash.split('$');
    expect(scheme).toBe('scrypt');
    expect([Number(N), Number(r), Number(p)]).toEqual([DEVICE_SCRYPT_PARAMS.N, DEVICE_SCRYPT_PARAMS.r, DEVICE_SCRYPT_PARAMS.p]);
    expect(Buffer.from(salt ?? '', 'base64url')).toHaveLength(16);
    expect(Buffer.from(key ?? '', 'base64url')).toHaveLength(32);
    expect(await hashDevicePassword('secret')).not.toBe(hash);
  });

  it('verifies the right password (string or Buffer) and refuses a wrong one', async () => {
    const { password } = generateDeviceCredentials('t1', 'd1');
    const hash = await hashDevicePassword(password);
    expect(await verifyDevicePassword(password, hash)).toBe(true);
    expect(await verifyDevicePassword(Buffer.from(password), hash)).toBe(true);
    expect(await verifyDevicePassword(`${password}x`, hash)).toBe(false);
    expect(await verifyDevicePassword('', hash)).toBe(false);
  });

  it('verifies hashes written with other (legal) parameters', async () => {
    const cheap = 'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA$' + Buffer.alloc(32).toString('base64url');
    expect(await verifyDevicePassword('x', cheap)).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['other scheme', 'bcrypt$2b$10$abc'],
    ['N not a power of two', 'scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['N too large', 'scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['p too large', 'scrypt$16384$8$9999$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['short key', 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAA'],
    ['too many fields', 'scrypt$16384$8$1$a$b$c'],
  ])('returns false, not an error, for a malformed stored hash (%s)', async (_label, hash) => {
    await expect(verifyDevicePassword('secret', hash)).resolves.toBe(false);
  });

  it('refuses absurdly long passwords', async () => {
    const hash = await hashDevicePassword('secret');
    await expect(verifyDevicePassword('a'.repeat(100_000), hash)).resolves.toBe(false);
  });

  it('dummyVerify does real work and is always false', async () => {
    const { password } = generateDeviceCredentials('t1', 'd1');
    const hash = await hashDevicePassword(password);
    const time = async (fn: () => Promise<boolean>) => {
      const start = process.hrtime.bigint();
      await fn();
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    await expect(dummyVerify(password)).resolves.toBe(false);
    const real = await time(() => verifyDevicePassword(password, hash));
    const dummy = await time(() => dummyVerify(password));
    // Same scrypt cost: within an order of magnitude even on a noisy CI machine.
    expect(dummy).toBeGreaterThan(real / 10);
  });
});
