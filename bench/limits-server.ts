/**
 * The "limits" in their own process, shaped like Pulse's side of each comparison:
 * - a raw `ws` server on the same kind of socket that broadcasts prebuilt JSON messages, each
 *   encoded once and the same Buffer sent to every socket (fan-out);
 * - a plain mqtt.js subscriber on the ingest topics that counts QoS 1 messages (MQTT ingest).
 */
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import mqtt, { type MqttClient } from 'mqtt';
import { WebSocketServer, type WebSocket } from 'ws';
import { serveIpc } from './lib/child.js';

export interface BroadcastRequest {
  /** Messages are cycled through until `count` have been sent to every socket. */
  messages: string[];
  count: number;
  /** Events per macrotask, as in the Pulse side. */
  burst: number;
}

export interface MqttSubscribeRequest {
  url: string;
  filters: string[];
  clientId: string;
}

const httpServer = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server: httpServer, path: '/ws' });
const sockets = new Set<WebSocket>();
wss.on('connection', (socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
});
await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
const { port } = httpServer.address() as AddressInfo;

let subscriber: MqttClient | undefined;
let received = 0;

const TEXT_FRAME = { binary: false } as const;
const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

serveIpc(
  {
    sockets: () => sockets.size,
    async broadcast(payload) {
      const request = payload as BroadcastRequest;
      // Each message encoded once, then the same bytes handed to every socket as a text frame:
      // the least work per send (a string would be encoded again for each socket).
      const messages = request.messages.map((message) => Buffer.from(message));
      for (let i = 0; i < request.count; i++) {
        const message = messages[i % messages.length]!;
        for (const socket of sockets) socket.send(message, TEXT_FRAME);
        if ((i + 1) % request.burst === 0) await yieldToLoop();
      }
      return request.count;
    },
    async mqttSubscribe(payload) {
      const request = payload as MqttSubscribeRequest;
      received = 0;
      subscriber = await mqtt.connectAsync(request.url, { clientId: request.clientId, clean: true, protocolVersion: 5, reconnectPeriod: 0 });
      subscriber.on('message', () => {
        received++;
      });
      await subscriber.subscribeAsync(request.filters, { qos: 1 });
      return true;
    },
    mqttReceived: () => received,
    async mqttStop() {
      await subscriber?.endAsync();
      subscriber = undefined;
      return received;
    },
  },
  async () => {
    await subscriber?.endAsync().catch(() => undefined);
    for (const socket of sockets) socket.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => httpServer.close(() => resolve()));
  },
  port,
);
