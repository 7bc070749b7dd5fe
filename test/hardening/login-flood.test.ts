/**
 * Issue 14, class 8: a login flood cannot take the thread pool and the connection pool from
 * GraphQL. 100 concurrent CONNECTs with a wrong password reach the embedded broker over TCP; at
 * most 2 password checks (real scrypt) run at once, 32 wait, and the rest are refused at once with
 * SERVER_UNAVAILABLE (so a device retries). GraphQL latency during such a burst is measured by the
 * `login-flood` bench suite, not timed here.
 */
import mqtt from 'mqtt';
import { dummyVerify } from '../../src/auth/device-credentials.js';
import { createLogger } from '../../src/logger.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../src/mqtt/broker.js';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { topics } from '../harness/topics.js';

let broker: EmbeddedBroker;
let running = 0;
let peak = 0;
let checks = 0;
beforeAll(async () => {
  broker = await startEmbeddedBroker({
    port: 0,
    host: '127.0.0.1',
    topics,
    logger: createLogger('silent'),
    serviceCredentials: { username: 'svc', password: 'svc-password' },
    maxConcurrentLogins: 2,
    maxQueuedLogins: 32,
    // The real cost of an unknown user: one scrypt, as deviceAuthenticator spends.
    async authenticateDevice(_username, password) {
      running += 1;
      checks += 1;
      peak = Math.max(peak, running);
      try {
        await dummyVerify(password);
        return null;
      } finally {
        running -= 1;
      }
    },
  });
});
afterAll(() => broker.close());

/** The CONNACK return code a CONNECT with a wrong password gets (0 would be a success). */
function connackCode(index: number): Promise<number> {
  return new Promise((resolve) => {
    const client = mqtt.connect(broker.url, { clientId: `t/flood-${index}`, username: `t/flood-${index}`, password: 'wrong', protocolVersion: 4, reconnectPeriod: 0 });
    client.once('error', (error) => {
      client.end(true);
      resolve((error as { code?: number }).code ?? -1);
    });
    client.once('connect', () => {
      client.end(true);
      resolve(0);
    });
  });
}

describe('the embedded broker bounds concurrent password checks', () => {
  test('100 concurrent bad logins: 2 checks at a time, 32 waiting, the rest refused at once', async () => {
    const codes = await Promise.all(Array.from({ length: 100 }, (_, index) => connackCode(index)));
    const count = (code: number) => codes.filter((candidate) => candidate === code).length;
    expect(peak).toBe(2);
    expect(count(0)).toBe(0);
    // Bad username or password for those checked, server unavailable for those turned away.
    expect(count(4)).toBe(checks);
    expect(checks).toBeGreaterThanOrEqual(34);
    expect(count(3)).toBe(100 - checks);
    expect(count(3)).toBeGreaterThan(0);
  });
});
