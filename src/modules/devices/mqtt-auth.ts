import { dummyVerify, verifyDevicePassword } from '../../auth/device-credentials.js';
import type { SessionRunner } from '../../db/tenant-session.js';
import type { DeviceIdentity } from '../../mqtt/broker.js';

const SERVICE_SCOPE = { tenantId: null, role: 'iot_service', actorId: 'mqtt-auth' } as const;

/**
 * Resolves MQTT CONNECT credentials to a device: an active (not revoked) credential of a device
 * that is not decommissioned, whose password matches its stored hash. Unknown usernames still
 * cost one hash, so response time does not reveal which usernames exist.
 */
export function deviceAuthenticator(runner: SessionRunner) {
  return async (username: string, password: Buffer): Promise<DeviceIdentity | null> => {
    const credential = await runner.run(SERVICE_SCOPE, (session) =>
      session.db.deviceCredential.findFirst({
        where: { username, revokedAt: null, device: { decommissionedAt: null } },
        select: { tenantId: true, deviceId: true, passwordHash: true },
      }),
    );
    if (!credential) {
      await dummyVerify(password);
      return null;
    }
    const valid = await verifyDevicePassword(password, credential.passwordHash);
    return valid ? { tenantId: credential.tenantId, deviceId: credential.deviceId } : null;
  };
}
