/**
 * A TCP proxy between an MQTT client (the app) and its broker that can see, hold and drop the
 * client's PUBACKs, and cut connections: the way to observe "acknowledged only after commit" and
 * a real broker redelivery from the outside, without touching the code under test.
 */
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

const PUBLISH = 3;
const PUBACK = 4;

/** Splits a byte stream into MQTT control packets (fixed header: type byte + varint length, §2.2). */
function framer(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let buffer = Buffer.alloc(0);
  return (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      let length = 0;
      let multiplier = 1;
      let offset = 1;
      let complete = false;
      while (offset < buffer.length && offset <= 4) {
        const byte = buffer[offset]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        offset += 1;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || buffer.length < offset + length) return;
      onFrame(buffer.subarray(0, offset + length));
      buffer = buffer.subarray(offset + length);
    }
  };
}

/** Offset of the variable header (after the fixed header's length bytes). */
function headerEnd(frame: Buffer): number {
  let offset = 1;
  while ((frame[offset]! & 0x80) !== 0) offset += 1;
  return offset + 1;
}

export interface PublishSeen {
  topic: string;
  messageId: number | undefined;
  dup: boolean;
}

export interface MqttProxy {
  url: string;
  /** QoS 1 publishes the broker sent the client, in order. */
  published: PublishSeen[];
  /**
   * Called for each PUBACK the client sends, before it is forwarded (the client's stream waits);
   * resolve false to drop it, as a connection lost at that instant would.
   */
  onPuback: ((ack: { messageId: number; topic: string | undefined }) => Promise<boolean> | boolean) | null;
  /** Destroys every proxied connection; the client reconnects through the proxy. */
  dropConnections(): void;
  close(): Promise<void>;
}

export async function startMqttProxy(brokerPort: number): Promise<MqttProxy> {
  const sockets = new Set<Socket>();
  const topics = new Map<number, string>();
  const proxy: MqttProxy = {
    url: '',
    published: [],
    onPuback: null,
    dropConnections() {
      for (const socket of sockets) socket.destroy();
    },
    async close() {
      proxy.dropConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };

  const server = createServer((client) => {
    const broker = connect(brokerPort, '127.0.0.1');
    for (const socket of [client, broker]) {
      sockets.add(socket);
      socket.once('close', () => {
        sockets.delete(socket);
        client.destroy();
        broker.destroy();
      });
      socket.on('error', () => undefined);
    }
    broker.on(
      'data',
      framer((frame) => {
        if (frame[0]! >> 4 === PUBLISH && ((frame[0]! >> 1) & 3) > 0) {
          const start = headerEnd(frame);
          const topicLength = frame.readUInt16BE(start);
          const topic = frame.subarray(start + 2, start + 2 + topicLength).toString();
          const messageId = frame.readUInt16BE(start + 2 + topicLength);
          topics.set(messageId, topic);
          proxy.published.push({ topic, messageId, dup: (frame[0]! & 0x08) !== 0 });
        }
        client.write(frame);
      }),
    );
    // Client → broker, one frame at a time and in order, so a held PUBACK holds what follows it.
    let chain: Promise<void> = Promise.resolve();
    client.on(
      'data',
      framer((frame) => {
        const copy = Buffer.from(frame);
        chain = chain.then(async () => {
          if (copy[0]! >> 4 === PUBACK && proxy.onPuback) {
            const messageId = copy.readUInt16BE(headerEnd(copy));
            if (!(await proxy.onPuback({ messageId, topic: topics.get(messageId) }))) return;
          }
          if (!broker.destroyed) broker.write(copy);
        });
      }),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  proxy.url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
