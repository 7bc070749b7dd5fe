/**
 * One client process of the scale suite (bench/scale.ts): a few thousand WebSocket clients on `ws`
 * with no per-socket machinery beyond the protocol, so several of these processes can hold 20,000
 * sockets without the load generator becoming the limit. Each socket either speaks
 * graphql-transport-ws (token in `connection_init`, then one or two `subscribe`s) or is a plain
 * socket of the raw server. Receipts are stamped with the wall clock (`performance.timeOrigin +
 * performance.now()`, sub-millisecond and shared by every process of one machine) before anything
 * else is done with the message, and handed back to the parent per round.
 */
import WebSocket from 'ws';
import { serveIpc } from './lib/child.js';
import { RAW_DOUBLE_REQUEST, type ConnectRequest, type RoundResult } from './scale-protocol.js';

const wallClock = () => performance.timeOrigin + performance.now();

const sockets: WebSocket[] = [];
let expected = 0;
let round: { receivedAt: number[]; errors: number; sample?: string; done?: () => void } | undefined;
let firstError: string | undefined;

function record(text: string, at: number): void {
  if (!round) return;
  round.receivedAt.push(at);
  if (round.sample === undefined) round.sample = text;
  if (text.includes('"errors"')) round.errors++;
  if (round.receivedAt.length >= expected) round.done?.();
}

/** Opens one socket and, for graphql-ws, resolves once its subscriptions are sent after the ack. */
function open(request: ConnectRequest, doubled: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const graphqlWs = request.protocol === 'graphql-ws';
    const ws = new WebSocket(request.url, graphqlWs ? 'graphql-transport-ws' : undefined, { perMessageDeflate: false, skipUTF8Validation: true });
    sockets.push(ws);
    ws.on('error', (error) => {
      firstError ??= error.message;
      reject(error);
    });
    ws.on('close', (code, reason) => {
      if (code !== 1000 && code !== 1001 && code !== 1005) firstError ??= `closed ${code} ${reason.toString()}`;
      // Refused before the handshake finished (4403, 4429…): fail the connect, do not wait for it.
      reject(new Error(`closed ${code} ${reason.toString()} before it was subscribed`));
    });
    ws.once('open', () => {
      if (!graphqlWs) {
        if (doubled) ws.send(RAW_DOUBLE_REQUEST);
        resolve();
        return;
      }
      ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${request.token}` } }));
    });
    ws.on('message', (data: Buffer) => {
      const at = wallClock();
      const text = data.toString('utf8');
      if (!graphqlWs) return record(text, at);
      // Deliveries are the hot path: recognised by their type, parsed by nobody.
      if (text.includes('"type":"next"')) return record(text, at);
      const message = JSON.parse(text) as { type?: string };
      if (message.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: request.query } }));
        if (doubled) ws.send(JSON.stringify({ id: '2', type: 'subscribe', payload: { query: request.query } }));
        resolve();
      } else if (message.type === 'ping') {
        ws.send('{"type":"pong"}');
      } else if (message.type === 'error' || message.type === 'complete') {
        firstError ??= text.slice(0, 300);
      }
    });
  });
}

serveIpc(
  {
    async connect(payload) {
      const request = payload as ConnectRequest;
      expected += request.sockets + request.doubled;
      let next = 0;
      await Promise.all(
        Array.from({ length: Math.min(request.concurrency, request.sockets) }, async () => {
          while (next < request.sockets) {
            const index = next++;
            await open(request, index < request.doubled);
          }
        }),
      );
      return sockets.length;
    },
    /** Starts a round: receipts from now on are kept until every subscription has one. */
    arm() {
      round = { receivedAt: [], errors: 0 };
      return expected;
    },
    /** Resolves with the round's receipts once every subscription of this process has one. */
    async finish(payload) {
      const { timeoutMs } = payload as { timeoutMs: number };
      const current = round;
      if (!current) throw new Error('no round armed');
      if (current.receivedAt.length < expected) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`${current.receivedAt.length} of ${expected} deliveries after ${timeoutMs} ms${firstError ? `; first error: ${firstError}` : ''}`)),
            timeoutMs,
          );
          current.done = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      round = undefined;
      return { receivedAt: current.receivedAt, errors: current.errors, sample: current.sample } satisfies RoundResult;
    },
    firstError: () => firstError ?? null,
    /** Closes every socket the way a client leaves (close frame), cutting those that do not answer. */
    async close() {
      await Promise.all(
        sockets.map(
          (ws) =>
            new Promise<void>((resolve) => {
              if (ws.readyState === WebSocket.CLOSED) return resolve();
              const cut = setTimeout(() => ws.terminate(), 5_000);
              ws.once('close', () => {
                clearTimeout(cut);
                resolve();
              });
              ws.close(1000);
            }),
        ),
      );
      sockets.length = 0;
      expected = 0;
      return true;
    },
  },
  async () => {
    for (const ws of sockets) ws.terminate();
  },
);
