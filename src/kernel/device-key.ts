/** A device is addressed by its tenant and its device ID, everywhere (rows, topics, events). */
export interface DeviceKey {
  tenantId: string;
  deviceId: string;
}

/** `tenant/device`: the Relay global ID body and map key (IDs never contain `/`). */
export function formatDeviceKey(key: DeviceKey): string {
  return `${key.tenantId}/${key.deviceId}`;
}

/** Inverse of {@link formatDeviceKey}; null when `text` has no `/`. */
export function parseDeviceKey(text: string): DeviceKey | null {
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1) return null;
  return { tenantId: text.slice(0, slash), deviceId: text.slice(slash + 1) };
}
