/**
 * Child processes of the bench (Pulse, the PostGraphile peer, the raw limits) and a tiny
 * request/reply protocol over Node's IPC channel. Servers run in their own processes so that the
 * load generator in the parent never shares an event loop with the server it measures.
 */
import { fork, type ChildProcess } from 'node:child_process';

interface IpcRequest {
  id: number;
  type: string;
  payload?: unknown;
}

interface IpcReply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

interface ReadyMessage {
  type: 'ready';
  port?: number;
}

function isReply(message: unknown): message is IpcReply {
  return typeof message === 'object' && message !== null && 'id' in message && 'ok' in message;
}

function isReady(message: unknown): message is ReadyMessage {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'ready';
}

export interface BenchChild {
  readonly name: string;
  readonly process: ChildProcess;
  /** Port the child's server listens on, when it has one. */
  readonly port: number;
  request<T = unknown>(type: string, payload?: unknown): Promise<T>;
  stop(): Promise<void>;
}

export interface StartChildOptions {
  name: string;
  script: string;
  env: NodeJS.ProcessEnv;
  /** Node flags, e.g. `['--import', 'tsx']`. */
  execArgv: string[];
  cwd?: string;
  readyTimeoutMs?: number;
}

/** Forks a script and resolves once it has sent `{ type: 'ready' }`. */
export async function startChild(options: StartChildOptions): Promise<BenchChild> {
  const child = fork(options.script, [], {
    cwd: options.cwd,
    env: options.env,
    execArgv: options.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      for (const waiter of pending.values()) waiter.reject(new Error(`${options.name} exited (${code ?? signal})`));
      pending.clear();
      resolve();
    });
  });
  child.on('message', (message: unknown) => {
    if (!isReply(message)) return;
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.ok) waiter.resolve(message.result);
    else waiter.reject(new Error(`${options.name}: ${message.error ?? 'failed'}`));
  });
  const ready = await new Promise<ReadyMessage>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${options.name} did not start in time`)), options.readyTimeoutMs ?? 120_000);
    const onMessage = (message: unknown) => {
      if (!isReady(message)) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited before it was ready (${code ?? signal})`));
    });
  }).catch(async (error: unknown) => {
    if (!exited) child.kill('SIGKILL');
    await exit;
    throw error;
  });

  return {
    name: options.name,
    process: child,
    port: ready.port ?? 0,
    request<T>(type: string, payload?: unknown): Promise<T> {
      if (exited) return Promise.reject(new Error(`${options.name} is not running`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ id, type, payload } satisfies IpcRequest);
      });
    },
    async stop() {
      if (exited) return;
      child.send({ id: 0, type: 'stop' } satisfies IpcRequest);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

export type IpcHandlers = Record<string, (payload: unknown) => Promise<unknown> | unknown>;

/**
 * Child side: answers requests with `handlers[type]`, and `stop` with `onStop` then exit. A child
 * whose parent goes away stops too.
 */
export function serveIpc(handlers: IpcHandlers, onStop: () => Promise<void>, port?: number): void {
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await onStop();
    } finally {
      process.exit(0);
    }
  };
  process.on('message', (message: unknown) => {
    const request = message as IpcRequest;
    if (request.type === 'stop') return void stop();
    const handler = handlers[request.type];
    const reply = (body: Omit<IpcReply, 'id'>) => process.send?.({ id: request.id, ...body } satisfies IpcReply);
    if (!handler) return reply({ ok: false, error: `unknown request ${request.type}` });
    Promise.resolve()
      .then(() => handler(request.payload))
      .then(
        (result) => reply({ ok: true, result }),
        (error: unknown) => reply({ ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
  process.on('disconnect', () => void stop());
  process.send?.({ type: 'ready', port } satisfies ReadyMessage);
}
