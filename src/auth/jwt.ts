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

/** Verifies HS256 tokens against `JWT_SECRET`, or RS/ES tokens against `JWKS_URL`. */
export function createTokenVerifier(config: Pick<Config, 'auth' | 'jwtIssuer' | 'jwtAudience'>): TokenVerifier {
  const key: Uint8Array | JWTVerifyGetKey =
    config.auth.kind === 'secret' ? new TextEncoder().encode(config.auth.secret) : createRemoteJWKSet(new URL(config.auth.url));
  const algorithms = config.auth.kind === 'secret' ? ['HS256'] : ['RS256', 'ES256', 'PS256', 'EdDSA'];
  return {
    async verify(raw) {
      const token = raw?.replace(/^Bearer\s+/i, '').trim();
      if (!token) throw new AuthenticationError('Authentication required: send "Authorization: Bearer <jwt>"', 'MISSING_TOKEN');
      let payload: unknown;
      try {
        const verified = await jwtVerify(token, key as Uint8Array, {
          algorithms,
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
      return { tenantId: claims.data.tenant_id, role: claims.data.role, subject: claims.data.sub };
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
