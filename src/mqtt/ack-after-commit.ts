import type { IPublishPacket, MqttClient, Packet } from 'mqtt';

type SendPacket = (packet: Packet, cb?: (error?: Error) => void, ...rest: unknown[]) => void;

export interface HeldMessage {
  packet: IPublishPacket;
  /** Sends the PUBACK now; a no-op if the connection it came on is gone (the broker redelivers). */
  acknowledge(): void;
}

/**
 * Holds each QoS 1 PUBACK until the caller says the message's effect is committed.
 *
 * mqtt.js sends the PUBACK as soon as `handleMessage` calls back, and reads the next packet only
 * after that, so waiting for a commit inside `handleMessage` would process one message per
 * transaction. Instead `handleMessage` returns at once (the stream keeps flowing, messages batch
 * up) and the PUBACK it triggers is parked here until `acknowledge()`. A crash before the commit
 * therefore sends no PUBACK and the broker redelivers the message to the persistent session
 * ([MQTT-4.3.2-1], [MQTT-4.4.0-1]). PUBACKs parked on a connection that has since closed are
 * dropped, never sent on the next connection, where the same packet id may mean another message.
 */
export function holdAcksUntilCommitted(client: MqttClient, onMessage: (message: HeldMessage) => void): void {
  const internal = client as unknown as { _sendPacket: SendPacket };
  const send = internal._sendPacket.bind(client);
  const parked = new Map<number, { connection: number; released: boolean; packet?: Packet }>();
  let connection = 0;
  client.on('close', () => {
    connection += 1;
    parked.clear();
  });

  internal._sendPacket = (packet, cb, ...rest) => {
    const slot = packet.cmd === 'puback' && packet.messageId !== undefined ? parked.get(packet.messageId) : undefined;
    if (!slot) return send(packet, cb, ...rest);
    // Let mqtt.js read the next packet now; the PUBACK itself waits for the commit.
    cb?.();
    if (slot.released) {
      parked.delete(packet.messageId!);
      send(packet);
    } else {
      slot.packet = packet;
    }
  };

  client.handleMessage = (packet, callback) => {
    if (packet.qos !== 1 || packet.messageId === undefined) {
      onMessage({ packet, acknowledge: () => {} });
      callback();
      return;
    }
    const messageId = packet.messageId;
    const slot = { connection, released: false, packet: undefined as Packet | undefined };
    parked.set(messageId, slot);
    onMessage({
      packet,
      acknowledge() {
        if (slot.connection !== connection || parked.get(messageId) !== slot) return;
        if (slot.packet) {
          parked.delete(messageId);
          send(slot.packet);
        } else {
          slot.released = true;
        }
      },
    });
    callback();
  };
}
