import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { tokenFor, type TestApp } from '../harness/app.js';
import {
  CANCEL_COMMAND,
  closeDevices,
  onlineDevice,
  privateDatabase,
  readCommand,
  registerDevices,
  send,
  sendOk,
  simulatedDevice,
  startOn,
  type PrivateDatabase,
} from './support.js';

/** The API's rules: idempotency, validation with typed errors, cancelling, roles and tenants. */
let db: PrivateDatabase;
let app: TestApp;
beforeAll(async () => {
  db = await privateDatabase();
  app = await startOn(db, { COMMANDS_MAX_PARAMS_BYTES: '1024', COMMANDS_MAX_PARAMS_DEPTH: '4' });
});
afterAll(async () => {
  await closeDevices();
  await app?.stop();
  await db?.dispose();
});

describe('idempotency keys', () => {
  test('the same key for the same device returns the first command; another device gets its own', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['a', 'b']);
    const first = await send(app, tenant.token, { deviceId: 'a', idempotencyKey: 'op-1', params: { n: 1 } });
    const again = await send(app, tenant.token, { deviceId: 'a', idempotencyKey: 'op-1', params: { n: 2 } });
    const other = await send(app, tenant.token, { deviceId: 'b', idempotencyKey: 'op-1' });
    expect(first).toMatchObject({ replayed: false, command: { idempotencyKey: 'op-1', params: { n: 1 } } });
    expect(again).toMatchObject({ replayed: true, command: { commandId: first.command!.commandId, params: { n: 1 } } });
    expect(other.command!.commandId).not.toBe(first.command!.commandId);
  });

  test('concurrent sends with one key store one command', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['c']);
    const results = await Promise.all(Array.from({ length: 6 }, () => send(app, tenant.token, { deviceId: 'c', idempotencyKey: 'burst' })));
    expect(new Set(results.map((result) => result.command!.commandId)).size).toBe(1);
    expect(results.filter((result) => !result.replayed)).toHaveLength(1);
    const listed = await app.gql<{ commands: { totalCount: number } }>(tenant.token, '{ commands(filter: { deviceId: "c" }) { totalCount } }');
    expect(listed.data?.commands.totalCount).toBe(1);
  });
});

describe('validation', () => {
  const cases: Array<[string, Record<string, unknown>, string, string[]]> = [
    ['command type with spaces', { commandType: 're boot' }, 'INVALID_FORMAT', ['input', 'commandType']],
    ['command type starting with a digit', { commandType: '1reboot' }, 'INVALID_FORMAT', ['input', 'commandType']],
    ['command type too long', { commandType: `a${'b'.repeat(64)}` }, 'TOO_BIG', ['input', 'commandType']],
    ['empty command type', { commandType: '' }, 'TOO_SMALL', ['input', 'commandType']],
    ['NUL in the command type', { commandType: 'reb\u0000oot' }, 'NUL_CHARACTER', ['input', 'commandType']],
    ['params an array', { params: [1, 2] }, 'INVALID_TYPE', ['input', 'params']],
    ['params a string', { params: 'reboot now' }, 'INVALID_TYPE', ['input', 'params']],
    ['params too large', { params: { blob: 'x'.repeat(2_000) } }, 'TOO_BIG', ['input', 'params']],
    ['params too deep', { params: { a: { b: { c: { d: { e: 1 } } } } } }, 'TOO_DEEP', ['input', 'params', 'a', 'b', 'c', 'd']],
    ['params with __proto__', { params: JSON.parse('{"ok":1,"__proto__":{"admin":true}}') as object }, 'FORBIDDEN_KEY', ['input', 'params', '__proto__']],
    ['NUL in params', { params: { note: 'a\u0000b' } }, 'NUL_CHARACTER', ['input', 'params', 'note']],
    ['TTL of 0', { ttlSeconds: 0 }, 'TOO_SMALL', ['input', 'ttlSeconds']],
    ['TTL over 7 days', { ttlSeconds: 604_801 }, 'TOO_BIG', ['input', 'ttlSeconds']],
    ['idempotency key with a control character', { idempotencyKey: 'a\nb' }, 'INVALID_FORMAT', ['input', 'idempotencyKey']],
    ['idempotency key too long', { idempotencyKey: 'k'.repeat(129) }, 'TOO_BIG', ['input', 'idempotencyKey']],
    ['device ID that is no ID', { deviceId: 'a/b' }, 'INVALID_FORMAT', ['input', 'deviceId']],
  ];

  test.each(cases)('%s is a typed ValidationError and stores nothing', async (_name, input, code, path) => {
    const result = await send(app, await tokenFor('validation-tenant'), { deviceId: 'v', ...input });
    expect(result.__typename).toBe('ValidationError');
    expect(result.issues).toContainEqual(expect.objectContaining({ code, path }));
  });

  test('an unknown or decommissioned device is NotFound; nothing is stored', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['gone']);
    await app.gql(tenant.token, 'mutation { decommissionDevice(input: { deviceId: "gone" }) { __typename } }');
    expect(await send(app, tenant.token, { deviceId: 'nobody' })).toMatchObject({ __typename: 'NotFound', code: 'NOT_FOUND' });
    expect(await send(app, tenant.token, { deviceId: 'gone' })).toMatchObject({ __typename: 'NotFound', code: 'NOT_FOUND' });
    const listed = await app.gql<{ commands: { totalCount: number } }>(tenant.token, '{ commands { totalCount } }');
    expect(listed.data?.commands.totalCount).toBe(0);
  });

  test('operators read across tenants but cannot send or cancel (FORBIDDEN)', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['op']);
    const created = await sendOk(app, tenant.token, { deviceId: 'op' });
    const sent = await app.gql(tenant.operatorToken, 'mutation { sendCommand(input: { deviceId: "op", commandType: "reboot" }) { __typename } }');
    expect(sent.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const cancelled = await app.gql(tenant.operatorToken, CANCEL_COMMAND, { id: created.id });
    expect(cancelled.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect(await readCommand(app, tenant.operatorToken, created.id)).toMatchObject({ status: 'QUEUED' });
  });
});

describe('cancelCommand', () => {
  test('a QUEUED command is CANCELLED and never sent, even when its device comes online', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['later']);
    const created = await sendOk(app, tenant.token, { deviceId: 'later' });
    const result = await app.gql<{ cancelCommand: Record<string, unknown> }>(tenant.token, CANCEL_COMMAND, { id: created.id });
    expect(result.data?.cancelCommand).toMatchObject({ __typename: 'CancelCommandPayload', command: { status: 'CANCELLED' } });
    const again = await app.gql<{ cancelCommand: Record<string, unknown> }>(tenant.token, CANCEL_COMMAND, { id: created.commandId });
    expect(again.data?.cancelCommand).toMatchObject({ __typename: 'CommandNotCancellable', status: 'CANCELLED', publishing: false });

    const device = await simulatedDevice(app, tenant.tenantId, 'later');
    await device.online();
    const next = await sendOk(app, tenant.token, { deviceId: 'later', commandType: 'after-cancel' });
    expect(await device.nextCommand()).toMatchObject({ commandId: next.commandId });
    expect(device.received.map((message) => message.commandId)).toEqual([next.commandId]);
  });

  test('a SENT command is not cancellable; another tenant’s command and junk IDs are not found', async ({ tenant, otherTenant }) => {
    const device = await onlineDevice(app, tenant.token, tenant.tenantId, 'busy');
    const created = await sendOk(app, tenant.token, { deviceId: 'busy' });
    await device.nextCommand();
    await app.pulse.app.reactions.idle();
    const sent = await app.gql<{ cancelCommand: Record<string, unknown> }>(tenant.token, CANCEL_COMMAND, { id: created.id });
    expect(sent.data?.cancelCommand).toMatchObject({ __typename: 'CommandNotCancellable', status: 'SENT', publishing: false });
    const foreign = await app.gql<{ cancelCommand: Record<string, unknown> }>(otherTenant.token, CANCEL_COMMAND, { id: created.id });
    expect(foreign.data?.cancelCommand).toMatchObject({ __typename: 'NotFound' });
    const junk = await app.gql<{ cancelCommand: Record<string, unknown> }>(tenant.token, CANCEL_COMMAND, { id: 'x\u0000y' });
    expect(junk.data?.cancelCommand).toMatchObject({ __typename: 'ValidationError' });
  });
});

describe('tenant isolation', () => {
  test('another tenant sees none of the commands, by ID, node or list, and reads survive junk IDs', async ({ tenant, otherTenant }) => {
    await registerDevices(app, tenant.token, ['mine']);
    const created = await sendOk(app, tenant.token, { deviceId: 'mine' });
    expect(await readCommand(app, otherTenant.token, created.id)).toBeNull();
    expect(await readCommand(app, otherTenant.token, created.commandId)).toBeNull();
    expect(await readCommand(app, tenant.token, 'not-a-command\u0000')).toBeNull();
    const node = await app.gql<{ node: unknown }>(otherTenant.token, 'query($id: ID!) { node(id: $id) { id } }', { id: created.id });
    expect(node.data?.node).toBeNull();
    const listed = await app.gql<{ commands: { totalCount: number } }>(otherTenant.token, '{ commands { totalCount } }');
    expect(listed.data?.commands.totalCount).toBe(0);
  });
});
