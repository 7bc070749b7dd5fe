/**
 * What the first-contact tests share: the embedded default as `npm start` runs it (PGlite and the
 * embedded broker in a fresh data directory, the development token), GraphQL over HTTP as a
 * client sends it, and subscription streams one can wait on.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import { createLogger } from '../../src/logger.js';
import { loadPulseConfig, startPulse, type RunningPulse } from '../../src/server.js';
import { wsClient } from '../harness/ws.js';

export interface EmbeddedDefault {
  pulse: RunningPulse;
  dataDir: string;
  /** Stops the server; keeps the data directory (a restart reuses it). */
  stop(): Promise<void>;
  /** Stops the server and removes the data directory. */
  dispose(): Promise<void>;
}

/** `npm start` with no configuration, in `dataDir` (a new temporary one by default), on free ports. */
export async function startEmbeddedDefault(env: Record<string, string> = {}, dataDir?: string): Promise<EmbeddedDefault> {
  const dir = dataDir ?? (await mkdtemp(path.join(tmpdir(), 'pulse-first-contact-')));
  const config = loadPulseConfig({ NODE_ENV: 'test', PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, MQTT_PORT: '0', LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent', ...env });
  const pulse = await startPulse(config, createLogger(config.logLevel));
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= pulse.stop());
  return {
    pulse,
    dataDir: dir,
    stop,
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface GraphQLResult<T = Record<string, unknown>> {
  data?: T;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** POST /graphql with a bearer token, as GraphiQL or curl sends it. */
export async function postGraphQL<T = Record<string, unknown>>(
  url: string,
  token: string,
  query: string,
  options: { operationName?: string; variables?: Record<string, unknown> } = {},
): Promise<GraphQLResult<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, operationName: options.operationName, variables: options.variables }),
  });
  return (await response.json()) as GraphQLResult<T>;
}

/** The example operation files, in README order (their names sort that way). */
export async function exampleFiles(): Promise<Array<{ name: string; source: string }>> {
  const dir = new URL('../../examples/', import.meta.url);
  const names = (await readdir(dir)).filter((name) => name.endsWith('.graphql')).sort();
  return Promise.all(names.map(async (name) => ({ name, source: await readFile(new URL(name, dir), 'utf8') })));
}

/** The README's ```graphql blocks, in order. */
export async function readmeGraphQLBlocks(): Promise<string[]> {
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  return [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

/** A running subscription whose events are kept, so a test can wait for one that matches. */
export interface EventStream<T> {
  readonly events: T[];
  /** Resolves with the first event (seen or to come) that matches; rejects after `timeoutMs`. */
  until(match: (event: T) => boolean, what: string, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export function streamOf<T>(client: Client, query: string, variables: Record<string, unknown> = {}, operationName?: string): EventStream<T> {
  const events: T[] = [];
  const waiters = new Set<() => void>();
  let failure: unknown;
  const iterator = client.iterate<T>({ query, variables, operationName });
  void (async () => {
    try {
      for await (const result of iterator) {
        if (result.errors) throw new Error(`subscription error: ${JSON.stringify(result.errors)}`);
        events.push(result.data as T);
        for (const wake of waiters) wake();
      }
    } catch (error) {
      failure = error;
      for (const wake of waiters) wake();
    }
  })();
  return {
    events,
    until(match, what, timeoutMs = 20_000) {
      return new Promise<T>((resolve, reject) => {
        // A bound on a failure, not a wait for success: the event normally arrives long before.
        const timer = setTimeout(() => finish(new Error(`no ${what} within ${timeoutMs} ms; events: ${JSON.stringify(events)}`)), timeoutMs);
        const check = () => {
          const found = events.find(match);
          if (found !== undefined) finish(undefined, found);
          else if (failure) finish(failure);
        };
        const finish = (error: unknown, event?: T) => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve(event as T);
        };
        waiters.add(check);
        check();
      });
    },
    async close() {
      await iterator.return?.();
    },
  };
}

export { wsClient };
