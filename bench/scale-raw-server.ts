/**
 * The limit of the scale suite, in its own process: a bare `ws` server holding as many sockets as
 * Pulse does and writing one prebuilt frame to every one of them (two copies to a socket that
 * asked for two, as Pulse sends to a socket with two subscriptions): the same bytes to each
 * socket, framed once, exactly as Pulse writes them (src/graphql/prebuilt-frames.ts). Started with `--expose-gc` so
 * its memory per socket is read after a full collection, like Pulse's.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { sendTextFrame, textFrame } from '../src/graphql/prebuilt-frames.js';
import { serveIpc } from './lib/child.js';
import { fullGc, type MemoryReading } from './lib/memory.js';
import { RAW_DOUBLE_REQUEST } from './scale-protocol.js';

const httpServer = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server: httpServer, path: '/ws', perMessageDeflate: false });
const copies = new Map<WebSocket, number>();
wss.on('connection', (socket) => {
  copies.set(socket, 1);
  socket.on('message', (data) => {
    if (String(data) === RAW_DOUBLE_REQUEST) copies.set(socket, 2);
  });
  socket.on('close', () => copies.delete(socket));
});
await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
const { port } = httpServer.address() as AddressInfo;

serveIpc(
  {
    /** Sockets open and deliveries one broadcast makes. */
    sockets: () => ({ sockets: copies.size, deliveries: [...copies.values()].reduce((sum, n) => sum + n, 0) }),
    /** Sends the message to every socket; answers with how long the server's own loop took. */
    broadcast(payload) {
      // Encoded and framed once: the least a server can do per socket is write the same bytes.
      const started = performance.now();
      const bytes = Buffer.from((payload as { message: string }).message);
      const frame = textFrame(bytes);
      for (const [socket, count] of copies) for (let i = 0; i < count; i++) sendTextFrame(socket, bytes, frame);
      return { sendMs: performance.now() - started };
    },
    memory: (): MemoryReading => fullGc(),
  },
  async () => {
    for (const socket of copies.keys()) socket.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => httpServer.close(() => resolve()));
  },
  port,
);
