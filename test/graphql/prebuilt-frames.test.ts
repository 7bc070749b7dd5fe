/**
 * Prebuilt frames (src/graphql/prebuilt-frames.ts) on a real `ws` server and client: every
 * length encoding arrives intact, in order with messages `ws` sends itself, and a socket whose
 * `ws` sender is busy (compressing) gets the message through `ws` instead, still in order.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { sendTextFrame, textFrame } from '../../src/graphql/prebuilt-frames.js';

const servers: WebSocketServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A server and one connected client; resolves with the server's socket and the client's messages. */
async function connected(options: { perMessageDeflate: boolean }) {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: options.perMessageDeflate });
  servers.push(server);
  await once(server, 'listening');
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { perMessageDeflate: options.perMessageDeflate });
  const [[socket]] = (await Promise.all([once(server, 'connection'), once(client, 'open')])) as [[WebSocket], unknown];
  const received: Array<{ text: string; binary: boolean }> = [];
  client.on('message', (data, binary) => received.push({ text: data.toString(), binary }));
  const receivedCount = (count: number) =>
    new Promise<void>((resolve) => {
      const check = () => (received.length >= count ? resolve() : client.once('message', () => setImmediate(check)));
      check();
    });
  return { socket, client, received, receivedCount };
}

const message = (length: number, seed: string) => Buffer.from(seed.repeat(Math.ceil(length / seed.length)).slice(0, length));

describe('prebuilt text frames', () => {
  test.each([0, 1, 125, 126, 1_000, 65_535, 65_536, 200_000])('a %i-byte message arrives intact as text', async (length) => {
    const { socket, client, received, receivedCount } = await connected({ perMessageDeflate: false });
    const payload = message(length, 'é{"a":1}');
    sendTextFrame(socket, payload, textFrame(payload));
    await receivedCount(1);
    expect(received).toEqual([{ text: payload.toString(), binary: false }]);
    client.close();
  });

  test('interleaved with ws.send, every message arrives in the order it was sent', async () => {
    const { socket, client, received, receivedCount } = await connected({ perMessageDeflate: false });
    const sent: string[] = [];
    for (let index = 0; index < 200; index += 1) {
      const text = `m${index}:${'x'.repeat(index * 300)}`;
      sent.push(text);
      if (index % 3 === 0) socket.send(text);
      else sendTextFrame(socket, Buffer.from(text), textFrame(Buffer.from(text)));
    }
    await receivedCount(sent.length);
    expect(received.map((entry) => entry.text)).toEqual(sent);
    client.close();
  });

  test('behind a message ws is still compressing, it goes through ws and keeps its place', async () => {
    const { socket, client, received, receivedCount } = await connected({ perMessageDeflate: true });
    const sender = (socket as unknown as { _sender: { _state: number } })._sender;
    // Large enough that ws compresses it asynchronously: its sender is busy right after.
    const big = message(300_000, 'compress me ');
    socket.send(big.toString());
    expect(sender._state).not.toBe(0);
    const after = Buffer.from('after the big one');
    sendTextFrame(socket, after, textFrame(after));
    await receivedCount(2);
    expect(received.map((entry) => entry.text)).toEqual([big.toString(), after.toString()]);
    client.close();
  });
});
