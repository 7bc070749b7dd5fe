/**
 * Per-device MQTT credentials: a deterministic username, a random password shown once, and an
 * scrypt hash of that password stored at rest.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { isValidId } from '../mqtt/topics.js';

/** What a device is given once, at registration. */
export interface DeviceCredentials {
  username: string;
  password: string;
}

/** Cost parameters written into every new hash (N = 2^14, r = 8, p = 1: 16 MiB, tens of ms). */
export const DEVICE_SCRYPT_PARAMS = { N: 16384, r: 8, p: 1 } as const;

const KEY_BYTES = 32;
const SALT_BYTES = 16;
// Far above any real password (ours are 43 characters); bounds the work an attacker can ask for.
const MAX_PASSWORD_BYTES = 1024;
// Upper bounds on parameters read back from a stored hash, so a corrupted or planted row cannot
// make one verification allocate gigabytes.
const MAX_N = 2 ** 20;
const MAX_R = 32;
const MAX_P = 16;

/**
 * The MQTT username of a device: `{tenantId}/{deviceId}`. Deterministic so operators can read it
 * in broker logs and rotation keeps it; `/` cannot occur in an ID (see `idPattern`), so the
 * username is unambiguous, unlike `:`, which IDs may contain. Throws a `TypeError` for an invalid ID.
 */
export function deviceUsername(tenantId: string, deviceId: string): string {
  if (!isValidId(tenantId) || !isValidId(deviceId)) throw new TypeError('invalid tenantId or deviceId');
  return `${tenantId}/${deviceId}`;
}

/** Splits a device username back into its IDs; `null` when it is not one. */
export function parseDeviceUsername(username: string): { tenantId: string; deviceId: string } | null {
  const parts = username.split('/');
  if (parts.length !== 2) return null;
  const [tenantId, deviceId] = parts;
  return isValidId(tenantId) && isValidId(deviceId) ? { tenantId, deviceId } : null;
}

/**
 * New credentials for a device: its {@link deviceUsername} and a password of 32 random bytes,
 * base64url (43 characters). 256 bits of entropy is why a moderate scrypt cost is enough.
 */
export function generateDeviceCredentials(tenantId: string, deviceId: string): DeviceCredentials {
  return { username: deviceUsername(tenantId, deviceId), password: randomBytes(32).toString('base64url') };
}

function derive(password: string | Uint8Array, salt: Buffer, keyLength: number, params: ScryptOptions): Promise<Buffer> {
  // 128·N·r·p bytes are needed; node's default maxmem (32 MiB) would refuse larger legal params.
  const maxmem = 256 * (params.N ?? 1) * (params.r ?? 1) * (params.p ?? 1) + 1024 * 1024;
  return new Promise((resolve, reject) => {
    // The async form runs on libuv's pool, so a burst of device connects does not block the loop.
    scrypt(password, salt, keyLength, { ...params, maxmem }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** Hashes a device password as `scrypt$N$r$p$salt$hash` (salt and hash base64url). */
export async function hashDevicePassword(password: string): Promise<string> {
  const { N, r, p } = DEVICE_SCRYPT_PARAMS;
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, KEY_BYTES, { N, r, p });
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

interface ParsedHash {
  params: { N: number; r: number; p: number };
  salt: Buffer;
  key: Buffer;
}

function parseHash(encoded: string): ParsedHash | null {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [N, r, p] = parts.slice(1, 4).map((part) => (/^[1-9][0-9]{0,9}$/.test(part) ? Number(part) : NaN));
  if (N === undefined || r === undefined || p === undefined) return null;
  // N must be a power of two > 1 (scrypt's requirement); the bounds keep the memory finite.
  if (!(N > 1 && N <= MAX_N && (N & (N - 1)) === 0 && r >= 1 && r <= MAX_R && p >= 1 && p <= MAX_P)) return null;
  const salt = Buffer.from(parts[4] ?? '', 'base64url');
  const key = Buffer.from(parts[5] ?? '', 'base64url');
  if (salt.length < 8 || key.length < 16 || key.length > 64) return null;
  return { params: { N, r, p }, salt, key };
}

/**
 * Checks a password against a stored hash, comparing with `timingSafeEqual`. Returns `false`
 * (never throws) for a wrong password, an oversized one, or a malformed stored hash.
 */
export async function verifyDevicePassword(password: string | Uint8Array, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (parsed === null || Buffer.byteLength(password) > MAX_PASSWORD_BYTES) {
    return dummyVerify(password);
  }
  try {
    const key = await derive(password, parsed.salt, parsed.key.length, parsed.params);
    return timingSafeEqual(key, parsed.key);
  } catch {
    return false;
  }
}

/**
 * Spends the same work as a real verification and returns `false`. Call it when the username is
 * unknown so response time does not reveal which devices exist.
 */
export async function dummyVerify(password: string | Uint8Array): Promise<false> {
  const { N, r, p } = DEVICE_SCRYPT_PARAMS;
  const input = Buffer.byteLength(password) > MAX_PASSWORD_BYTES ? '' : password;
  try {
    const key = await derive(input, randomBytes(SALT_BYTES), KEY_BYTES, { N, r, p });
    timingSafeEqual(key, Buffer.alloc(KEY_BYTES));
  } catch {
    // Nothing to report: the answer is false either way.
  }
  return false;
}
