import { generateDeviceCredentials, hashDevicePassword } from '../../auth/device-credentials.js';
import type { TenantSession } from '../../db/tenant-session.js';
import { deviceTopicPrefix } from '../../mqtt/topics.js';

export interface IssuedCredentials {
  username: string;
  /** Shown once; only its hash is stored. */
  password: string;
  topicPrefix: string;
}

/** Revokes any active credentials of the device and issues new ones. */
export async function issueDeviceCredentials(
  session: TenantSession,
  key: { tenantId: string; deviceId: string },
): Promise<IssuedCredentials> {
  await revokeDeviceCredentials(session, key);
  const { username, password } = generateDeviceCredentials(key.tenantId, key.deviceId);
  const passwordHash = await hashDevicePassword(password);
  await session.db.deviceCredential.create({ data: { ...key, username, passwordHash }, select: { id: true } });
  return { username, password, topicPrefix: deviceTopicPrefix(key.tenantId, key.deviceId) };
}

export async function revokeDeviceCredentials(session: TenantSession, key: { tenantId: string; deviceId: string }): Promise<void> {
  await session.db.deviceCredential.updateMany({ where: { ...key, revokedAt: null }, data: { revokedAt: new Date(), rotatedAt: new Date() } });
}
