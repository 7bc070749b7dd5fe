/**
 * `npm run token`: fast because it loads nothing but Node built-ins, and what it signs is what the
 * server's verifier accepts (claims, secret, issuer and audience).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';
import { createTokenVerifier } from '../../src/auth/jwt.js';
import { DEVELOPMENT_JWT_SECRET } from '../../src/config.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE = new URL('../../src/cli/token.ts', import.meta.url);

async function token(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', ...args], {
      cwd: REPO,
      env: { PATH: process.env['PATH'] ?? '', ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const verifierFor = (secret: string, extra: { jwtIssuer?: string; jwtAudience?: string } = {}) =>
  createTokenVerifier({ auth: { kind: 'secret', secret, isDevelopmentSecret: false }, ...extra });

describe('npm run token', () => {
  test('imports Node built-ins only: no schema, no zod, no jose', async () => {
    const source = await readFile(SOURCE, 'utf8');
    const imports = [...source.matchAll(/^import .* from '([^']+)';$/gm)].map((match) => match[1]);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.every((specifier) => specifier!.startsWith('node:'))).toBe(true);
    // Its copy of the development secret is the server's.
    expect(source).toContain(`'${DEVELOPMENT_JWT_SECRET}'`);
  });

  test('signs the claims the server verifies, with the development secret by default', async () => {
    const result = await token(['--tenant', 'acme', '--role', 'operator', '--expires', '1h']);
    expect(result.code).toBe(0);
    const jwt = result.stdout.trim();
    expect(await verifierFor(DEVELOPMENT_JWT_SECRET).verify(jwt)).toEqual({ tenantId: 'acme', role: 'operator', subject: 'operator@acme' });
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number };
    expect(claims.exp - claims.iat).toBe(3600);
  });

  test('uses JWT_SECRET, JWT_ISSUER and JWT_AUDIENCE when set', async () => {
    const secret = 'a-secret-of-at-least-thirty-two-characters!';
    const result = await token(['--tenant', 'acme', '--sub', 'alice'], { JWT_SECRET: secret, JWT_ISSUER: 'https://id.example', JWT_AUDIENCE: 'pulse' });
    const jwt = result.stdout.trim();
    expect(await verifierFor(secret, { jwtIssuer: 'https://id.example', jwtAudience: 'pulse' }).verify(jwt)).toEqual({ tenantId: 'acme', role: 'customer', subject: 'alice' });
    await expect(verifierFor(DEVELOPMENT_JWT_SECRET).verify(jwt)).rejects.toThrow('Invalid token');
  });

  test.each([
    [['--role', 'customer'], {}, '--tenant is required'],
    [['--tenant', 'a/b'], {}, '--tenant must be'],
    [['--tenant', 'acme', '--role', 'admin'], {}, '--role must be one of customer, operator, iot_service'],
    [['--tenant', 'acme', '--expires', 'soon'], {}, '--expires must be a duration'],
    [['--tenant', 'acme'], { JWT_SECRET: 'short' }, 'JWT_SECRET must be at least 32 characters'],
    [['--tenant', 'acme'], { JWKS_URL: 'https://id.example/jwks' }, 'JWKS_URL is set'],
  ] as const)('refuses %j %j', async (args, env, message) => {
    const result = await token([...args], env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(message);
  });
});
