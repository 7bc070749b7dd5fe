/**
 * `pulse/{tenant}/{ap}/wireless/registrations`: an access point reports the stations registered
 * on one of its radios, once per poll. An adapter from the validated message to the poll service;
 * it runs in the bridge's batch transaction (service role), addressed by the topic's tenant and AP.
 */
import { applied, defineInboundTopic, duplicate, rejected } from '../../mqtt/ingest.js';
import { wirelessRegistrationsPayloadSchema } from './payloads.js';
import { applyRegistrationPoll } from './registrations.js';

export const wirelessRegistrationsTopic = defineInboundTopic({
  kind: 'wirelessRegistrations',
  topic: 'wireless/registrations',
  payload: wirelessRegistrationsPayloadSchema,
  description:
    'One poll of one AP radio: `{ pollId, interface, ts, stations: [{ mac, signalDbm, snrDb, noiseDbm, txRateMbps, rxRateMbps, ccq, uptimeS }] }`; a repeated or older poll changes nothing',
  async handle(session, message, services) {
    const outcome = await applyRegistrationPoll(
      session,
      services,
      { tenantId: message.tenantId, deviceId: message.deviceId },
      message.payload,
      message.receivedAt,
    );
    if (outcome.status === 'unknownDevice') return rejected('UNKNOWN_DEVICE');
    return outcome.status === 'applied' ? applied : duplicate;
  },
});
