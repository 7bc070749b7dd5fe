/**
 * `npm run token -- --tenant <id> [--role customer|operator|iot_service] [--sub <subject>] [--expires 12h]`:
 * prints an HS256 JWT for `JWT_SECRET` (or the embedded default's development secret).
 *
 * It imports Node built-ins only: no schema, no zod, no jose. The claims are those `mintToken`
 * (src/auth/jwt.ts) signs and the server's verifier checks; test/first-contact/token.test.ts
 * verifies this command's output with the server's verifier.
 */
import { createHmac } from 'node:crypto';
import { parseArgs } from 'node:util';

/** The same value as config.ts's DEVELOPMENT_JWT_SECRET (kept literal here so the command stays fast; the test compares them). */
const DEVELOPMENT_JWT_SECRET = 'pulse-development-secret-change-me-0123456789';
const ROLES = ['customer', 'operator', 'iot_service'] as const;
/** kernel/ids.ts's ID_PATTERN. */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const UNITS: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800 };

const usage = 'usage: npm run token -- --tenant <id> [--role customer|operator|iot_service] [--sub <subject>] [--expires 12h]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

/** `90`, `90s`, `15m`, `12h`, `30d`, `2w` → seconds. */
function parseDuration(text: string): number | null {
  const match = /^(\d+)\s*([smhdw]?)$/.exec(text.trim());
  if (!match) return null;
  const seconds = Number(match[1]) * UNITS[match[2] || 's']!;
  return seconds > 0 ? seconds : null;
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** An HS256 JWT with Pulse's claims (`tenant_id`, `role`, `sub`, `iat`, `exp`, and `iss`/`aud` when configured). */
function signToken(secret: string, claims: Record<string, string | number>): string {
  const unsigned = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(claims))}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

function main(): void {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        tenant: { type: 'string' },
        role: { type: 'string', default: 'customer' },
        sub: { type: 'string' },
        expires: { type: 'string', default: '12h' },
      },
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  const role = ROLES.find((candidate) => candidate === values.role);
  if (!values.tenant) fail('--tenant is required');
  if (!ID_PATTERN.test(values.tenant)) fail('--tenant must be 1–128 characters: letters, digits and . _ : - (starting with a letter or digit)');
  if (!role) fail(`--role must be one of ${ROLES.join(', ')}`);
  const lifetime = parseDuration(values.expires);
  if (lifetime === null) fail('--expires must be a duration such as 90s, 15m, 12h, 30d');
  if (process.env['JWKS_URL']) {
    process.stderr.write('JWKS_URL is set: tokens come from your identity provider, not from this command.\n');
    process.exit(2);
  }
  const secret = process.env['JWT_SECRET'] || DEVELOPMENT_JWT_SECRET;
  if (secret.length < 32) fail('JWT_SECRET must be at least 32 characters');
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, string | number> = { tenant_id: values.tenant, role, sub: values.sub ?? `${role}@${values.tenant}`, iat: now, exp: now + lifetime };
  if (process.env['JWT_ISSUER']) claims['iss'] = process.env['JWT_ISSUER'];
  if (process.env['JWT_AUDIENCE']) claims['aud'] = process.env['JWT_AUDIENCE'];
  process.stdout.write(`${signToken(secret, claims)}\n`);
}

main();
