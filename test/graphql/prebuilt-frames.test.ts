/**
 * Prebuilt frames (src/graphql/prebuilt-frames.ts) on a real `ws` server and client: every
 * length encoding arrives intact, in order with messages `ws` sends itself; a socket whose `ws`
 * sender is busy (compressing, a fragmented message half sent), that negotiated
 * permessage-deflate or that is closing gets the message through `ws` instead, as `ws.send` would.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test, vi } from 'vitest';
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

  test('an idle socket without compression is written directly, not through ws.send', async () => {
    const { socket, client, received, receivedCount } = await connected({ perMessageDeflate: false });
    const send = vi.spyOn(socket, 'send');
    const payload = Buffer.from('{"direct":true}');
    sendTextFrame(socket, payload, textFrame(payload));
    await receivedCount(1);
    expect(send).not.toHaveBeenCalled();
    expect(received.map((entry) => entry.text)).toEqual([payload.toString()]);
    client.close();
  });

  test('a socket with permessage-deflate gets the message through ws even when its sender is idle', async () => {
    const { socket, client, received, receivedCount } = await connected({ perMessageDeflate: true });
    expect(socket.extensions).toContain('permessage-deflate');
    const send = vi.spyOn(socket, 'send');
    const payload = message(5_000, 'compressible ');
    sendTextFrame(socket, payload, textFrame(payload));
    await receivedCount(1);
    expect(send).toHaveBeenCalledTimes(1);
    expect(received).toEqual([{ text: payload.toString(), binary: false }]);
    client.close();
  });

  test('while ws has a fragmented message half sent, the message continues it exactly as ws.send would', async () => {
    const { socket, client, received, receivedCount } = await connected({ perMessageDeflate: false });
    socket.send('first part, ', { fin: false });
    const after = Buffer.from('then this');
    sendTextFrame(socket, after, textFrame(after));
    socket.send('a message of its own');
    await receivedCount(2);
    // A data frame of its own here would be a protocol error (RFC 6455 §5.4) and close the socket.
    expect(received.map((entry) => entry.text)).toEqual(['first part, then this', 'a message of its own']);
    client.close();
  });

  test('once the socket is closing, nothing is written after its close frame', async () => {
    const { socket, client } = await connected({ perMessageDeflate: false });
    const stream = (socket as unknown as { _socket: { write(chunk: Buffer): boolean } })._socket;
    const closed = once(client, 'close');
    socket.close(1000, 'bye');
    const write = vi.spyOn(stream, 'write');
    const payload = Buffer.from('too late');
    const frame = textFrame(payload);
    sendTextFrame(socket, payload, frame);
    expect(write.mock.calls.some(([chunk]) => chunk === frame)).toBe(false);
    const [code] = (await closed) as [number];
    expect(code).toBe(1000);
  });
});
