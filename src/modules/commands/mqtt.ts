/**
 * MQTT adapters of the commands module: the device's ack (inbound) and the command itself
 * (outbound). The ack handler runs in the bridge's batch transaction (service role) and addresses
 * the command by the topic's tenant, device and command ID, so a device can only ever ack its own.
 */
import { applied, defineInboundTopic, duplicate, rejected, type IngestOutcome, type InboundMessage, type OutboundTopic } from '../../mqtt/ingest.js';
import { commandAckPayloadSchema } from './payloads.js';
import { recordAcks, type AckMessage } from './acks.js';
import { COMMAND_ACK_TOPIC, COMMAND_TOPIC } from './topics.js';
import type { AckOutcome } from './status.js';

function ackOf(message: InboundMessage<'commandAck'>): AckMessage {
  return {
    key: { tenantId: message.tenantId, deviceId: message.deviceId },
    commandId: message.params['commandId']!,
    payload: message.payload,
    receivedAt: message.receivedAt,
  };
}

/** Late and duplicate acks change nothing and are acknowledged; the commands metrics tell them apart. */
const OUTCOMES: Record<AckOutcome | 'unknownDevice', IngestOutcome> = {
  applied,
  duplicate,
  late: duplicate,
  unknown: rejected('UNKNOWN_COMMAND'),
  unknownDevice: rejected('UNKNOWN_DEVICE'),
};

export const commandAckTopic = defineInboundTopic({
  kind: 'commandAck',
  topic: COMMAND_ACK_TOPIC,
  payload: commandAckPayloadSchema,
  description: 'The device acknowledges a command: `delivered` (with an optional result) or `failed` (with its error)',
  async handle(session, message, services) {
    const [outcome] = await recordAcks(session, services, [ackOf(message)]);
    return OUTCOMES[outcome!];
  },
  async handleMany(session, messages, services) {
    const outcomes = await recordAcks(session, services, messages.map(ackOf));
    return outcomes.map((outcome) => OUTCOMES[outcome]);
  },
});

/** Server → device: one message per command, QoS 1, never retained (a retained command would replay). */
export const commandTopic: OutboundTopic = {
  kind: 'command',
  topic: COMMAND_TOPIC,
  qos: 1,
  retain: false,
  description: 'A command: { commandId, commandType, params, expiresAt }; drop a repeated commandId, ignore one past expiresAt',
};
