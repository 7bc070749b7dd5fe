import type { IPublishPacket, MqttClient, Packet } from 'mqtt';

type SendPacket = (packet: Packet, cb?: (error?: Error) => void, ...rest: unknown[]) => void;

export interface HeldMessage {
  packet: IPublishPacket;
  /** Sends the PUBACK now; a no-op if the connection it came on is gone (the broker redelivers). */
  acknowledge(): void;
}

/** Where held messages go: nowhere yet (buffered) until the bridge attaches. */
export interface InboundGate {
  /**
   * Starts delivering messages to `onMessage`, first those that arrived before (in order).
   * `null` detaches: later messages are left unacknowledged, for the broker to redeliver.
   */
  attach(onMessage: ((message: HeldMessage) => void) | null): void;
}

const gates = new WeakMap<MqttClient, InboundGate>();

/** A PUBACK with reason Success and no properties: what every committed message gets. */
function isPlainPuback(packet: Packet): boolean {
  if (packet.cmd !== 'puback' || packet.messageId === undefined) return false;
  const { reasonCode, properties } = packet as { reasonCode?: number; properties?: object };
  return (reasonCode === undefined || reasonCode === 0) && (properties === undefined || Object.keys(properties).length === 0);
}

/**
 * Success PUBACKs for `messageIds`, back to back in one buffer: type 4, remaining length 2, the
 * packet identifier. MQTT 5 may omit the reason code and properties of a Success PUBACK
 * ([MQTT-3.4.2.1]), so the 4 bytes are the same in 3.1.1 and 5. Written as one chunk instead of
 * through mqtt.js packet by packet, which costs a generate, an emit and a stream write each.
 */
function successPubacks(messageIds: readonly number[]): Buffer {
  const bytes = Buffer.allocUnsafe(messageIds.length * 4);
  messageIds.forEach((id, index) => {
    bytes[index * 4] = 0x40;
    bytes[index * 4 + 1] = 0x02;
    bytes.writeUInt16BE(id, index * 4 + 2);
  });
  return bytes;
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
 *
 * Install it before the client connects (idempotent: one gate per client): a persistent session
 * delivers its queued messages right after CONNACK, before anyone could subscribe, and mqtt.js'
 * default handler would acknowledge them unseen. Until a consumer attaches they are buffered,
 * their PUBACKs parked.
 */
export function holdAcksUntilCommitted(client: MqttClient): InboundGate {
  const existing = gates.get(client);
  if (existing) return existing;
  const internal = client as unknown as { _sendPacket: SendPacket };
  const send = internal._sendPacket.bind(client);
  const parked = new Map<number, { connection: number; released: boolean; packet?: Packet }>();
  let connection = 0;
  /** Released PUBACKs written together at the end of the tick (a committed batch releases hundreds at once). */
  let ready: number[] = [];
  client.on('close', () => {
    connection += 1;
    parked.clear();
    ready = [];
  });

  const flush = () => {
    const ids = ready;
    ready = [];
    if (ids.length === 0) return;
    const stream = client.stream;
    if (!client.connected || !stream?.writable) return; // the broker redelivers them on the next connection
    stream.write(successPubacks(ids));
  };
  const release = (packet: Packet) => {
    if (!isPlainPuback(packet)) return send(packet);
    if (ready.length === 0) process.nextTick(flush);
    ready.push(packet.messageId!);
  };

  internal._sendPacket = (packet, cb, ...rest) => {
    const slot = packet.cmd === 'puback' && packet.messageId !== undefined ? parked.get(packet.messageId) : undefined;
    if (!slot) return send(packet, cb, ...rest);
    // Let mqtt.js read the next packet now; the PUBACK itself waits for the commit.
    cb?.();
    if (slot.released) {
      parked.delete(packet.messageId!);
      release(packet);
    } else {
      slot.packet = packet;
    }
  };

  let consumer: ((message: HeldMessage) => void) | null | undefined;
  let early: HeldMessage[] = [];
  const deliver = (message: HeldMessage) => {
    if (consumer === undefined) early.push(message);
    else if (consumer !== null) consumer(message);
  };

  client.handleMessage = (packet, callback) => {
    if (packet.qos !== 1 || packet.messageId === undefined) {
      deliver({ packet, acknowledge: () => {} });
      callback();
      return;
    }
    const messageId = packet.messageId;
    const slot = { connection, released: false, packet: undefined as Packet | undefined };
    parked.set(messageId, slot);
    deliver({
      packet,
      acknowledge() {
        if (slot.connection !== connection || parked.get(messageId) !== slot) return;
        if (slot.packet) {
          parked.delete(messageId);
          release(slot.packet);
        } else {
          slot.released = true;
        }
      },
    });
    callback();
  };

  const gate: InboundGate = {
    attach(onMessage) {
      consumer = onMessage;
      const buffered = early;
      early = [];
      // Those buffered on a connection that has closed since have no PUBACK to send any more and
      // will be redelivered; delivering them now as well is harmless (handlers are idempotent).
      if (onMessage) buffered.forEach(onMessage);
    },
  };
  gates.set(client, gate);
  return gate;
}
