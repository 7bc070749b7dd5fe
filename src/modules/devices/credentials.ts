import { generateDeviceCredentials, hashDevicePassword } from '../../auth/device-credentials.js';
import type { TenantSession } from '../../db/tenant-session.js';
import { deviceTopicPrefix } from '../../mqtt/topics.js';

export interface IssuedCredentials {
  username: string;
  /** Shown once; only its hash is stored. */
  password: string;
  topicPrefix: string;
}

/**
 * Issues new credentials for a device (at registration, and on rotation) and returns them once.
 * The username is derived from the IDs and unique across all rows, so a rotation replaces the
 * row's hash in place (rotated_at says when; revoked credentials become active again) rather than
 * inserting a second row: the old password stops working when this transaction commits.
 */
export async function issueDeviceCredentials(
  session: TenantSession,
  key: { tenantId: string; deviceId: string },
): Promise<IssuedCredentials> {
  const { username, password } = generateDeviceCredentials(key.tenantId, key.deviceId);
  const passwordHash = await hashDevicePassword(password);
  await session.db.deviceCredential.upsert({
    where: { username },
    create: { ...key, username, passwordHash },
    update: { passwordHash, rotatedAt: new Date(), revokedAt: null },
    select: { id: true },
  });
  return { username, password, topicPrefix: deviceTopicPrefix(key.tenantId, key.deviceId) };
}

/** Revokes the device's credentials: the broker refuses them from the next CONNECT on. */
export async function revokeDeviceCredentials(session: TenantSession, key: { tenantId: string; deviceId: string }): Promise<void> {
  await session.db.deviceCredential.updateMany({ where: { ...key, revokedAt: null }, data: { revokedAt: new Date(), rotatedAt: new Date() } });
}
