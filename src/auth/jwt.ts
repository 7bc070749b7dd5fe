import { createRemoteJWKSet, jwtVerify, SignJWT, errors as joseErrors, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Role } from '../db/tenant-session.js';
import { idSchema } from '../kernel/ids.js';

/** The caller, as proven by a verified token. */
export interface Principal {
  tenantId: string;
  role: Role;
  subject: string;
}

/** Why a token was refused; the message is safe to show to the client. */
export class AuthenticationError extends Error {
  constructor(
    message: string,
    readonly code: 'MISSING_TOKEN' | 'INVALID_TOKEN' | 'EXPIRED_TOKEN' | 'INVALID_CLAIMS',
  ) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

const claimsSchema = z.object({
  tenant_id: idSchema,
  role: z.enum(['customer', 'operator', 'iot_service']),
  sub: z.string().min(1).max(256),
});

export interface TokenVerifier {
  verify(token: string | undefined | null): Promise<Principal>;
}

/** Tokens remembered as verified; the oldest is forgotten first. Bounded: a token is ~0.3 KB. */
const VERIFIED_TOKENS_REMEMBERED = 5_000;
/**
 * How long a verified token is taken at its word without checking the signature again (never
 * past its `exp`). Bounded so a key withdrawn from the JWKS stops being honoured soon after.
 */
const VERIFIED_TOKEN_TTL_MS = 5 * 60_000;

/**
 * Verified tokens, by their exact text: the same bytes carry the same signature and claims, so
 * verifying them again (HMAC or RSA, claim checks, schema) would give the same answer until they
 * expire. Most requests repeat a token; this takes the signature check off every request but the first.
 */
class VerifiedTokens {
  private readonly entries = new Map<string, { principal: Principal; validUntil: number }>();

  get(token: string, now: number): Principal | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (now >= entry.validUntil) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.principal;
  }

  remember(token: string, principal: Principal, expiresAtSeconds: number | undefined, now: number): void {
    const validUntil = Math.min(now + VERIFIED_TOKEN_TTL_MS, expiresAtSeconds === undefined ? Infinity : expiresAtSeconds * 1000);
    if (validUntil <= now) return;
    if (this.entries.size >= VERIFIED_TOKENS_REMEMBERED) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { principal, validUntil });
  }
}

/** Verifies HS256 tokens against `JWT_SECRET`, or RS/ES tokens against `JWKS_URL`. */
export function createTokenVerifier(config: Pick<Config, 'auth' | 'jwtIssuer' | 'jwtAudience'>, now: () => number = Date.now): TokenVerifier {
  const key: Uint8Array | JWTVerifyGetKey =
    config.auth.kind === 'secret' ? new TextEncoder().encode(config.auth.secret) : createRemoteJWKSet(new URL(config.auth.url));
  const algorithms = config.auth.kind === 'secret' ? ['HS256'] : ['RS256', 'ES256', 'PS256', 'EdDSA'];
  const verifiedTokens = new VerifiedTokens();
  return {
    async verify(raw) {
      const token = raw?.replace(/^Bearer\s+/i, '').trim();
      if (!token) throw new AuthenticationError('Authentication required: send "Authorization: Bearer <jwt>"', 'MISSING_TOKEN');
      const known = verifiedTokens.get(token, now());
      // A copy: callers own the principal they get.
      if (known) return { ...known };
      let payload: unknown;
      try {
        const verified = await jwtVerify(token, key as Uint8Array, {
          algorithms,
          currentDate: new Date(now()),
          issuer: config.jwtIssuer,
          audience: config.jwtAudience,
        });
        payload = verified.payload;
      } catch (error) {
        if (error instanceof joseErrors.JWTExpired) throw new AuthenticationError('Token expired', 'EXPIRED_TOKEN');
        throw new AuthenticationError('Invalid token', 'INVALID_TOKEN');
      }
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) {
        const fields = claims.error.issues.map((issue) => issue.path.join('.')).join(', ');
        throw new AuthenticationError(`Token claims are invalid (${fields}): tenant_id, role and sub are required`, 'INVALID_CLAIMS');
      }
      const principal: Principal = { tenantId: claims.data.tenant_id, role: claims.data.role, subject: claims.data.sub };
      const expiresAt = (payload as { exp?: unknown }).exp;
      verifiedTokens.remember(token, principal, typeof expiresAt === 'number' ? expiresAt : undefined, now());
      return { ...principal };
    },
  };
}

/** Mints an HS256 token; for local use, tests and the `npm run token` command. */
export async function mintToken(
  secret: string,
  claims: { tenantId: string; role: Role; subject: string },
  expiresIn: string | number = '12h',
): Promise<string> {
  return new SignJWT({ tenant_id: claims.tenantId, role: claims.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.subject)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
