import { parseArgs } from 'node:util';
import { loadPlatformConfig } from '../config.js';
import { mintToken } from '../auth/jwt.js';

const usage = 'usage: npm run token -- --tenant <id> [--role customer|operator|iot_service] [--sub <subject>] [--expires 12h]';

const { values } = parseArgs({
  options: {
    tenant: { type: 'string' },
    role: { type: 'string', default: 'customer' },
    sub: { type: 'string' },
    expires: { type: 'string', default: '12h' },
  },
});

const roles = ['customer', 'operator', 'iot_service'] as const;
const role = roles.find((candidate) => candidate === values.role);
if (!values.tenant || !role) {
  console.error(usage);
  process.exit(2);
}
const config = loadPlatformConfig();
if (config.auth.kind !== 'secret') {
  console.error('JWKS_URL is set: tokens come from your identity provider, not from this command.');
  process.exit(2);
}
const token = await mintToken(
  config.auth.secret,
  { tenantId: values.tenant, role, subject: values.sub ?? `${role}@${values.tenant}` },
  values.expires,
);
console.log(token);
