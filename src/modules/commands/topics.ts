/** Below `pulse/{tenantId}/{deviceId}/`: where a device receives commands and answers them. */
export const COMMAND_TOPIC = 'commands/{commandId}';
export const COMMAND_ACK_TOPIC = 'commands/{commandId}/ack';
