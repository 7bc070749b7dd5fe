import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import type { TestApp } from '../harness/app.js';
import { nextListener } from '../harness/listeners.js';
import { subscribe, wsClient } from '../harness/ws.js';
import {
  closeDevices,
  createStaticGroup,
  privateDatabase,
  registerDevices,
  simulatedDevice,
  startOn,
  type PrivateDatabase,
} from './support.js';

/** Group commands: one command per member resolved at send time, counted by a batch that stays current. */
let db: PrivateDatabase;
let app: TestApp;
beforeAll(async () => {
  db = await privateDatabase();
  app = await startOn(db, { COMMANDS_MAX_GROUP_TARGETS: '5' });
});
afterAll(async () => {
  await closeDevices();
  await app?.stop();
  await db?.dispose();
});

const SEND_GROUP = /* GraphQL */ `
  mutation($input: SendGroupCommandInput!) {
    sendGroupCommand(input: $input) {
      __typename
      ... on SendGroupCommandPayload { batch { id batchId groupId targetCount commandType params counts { queued sent delivered total } } }
      ... on ValidationError { issues { path code } }
      ... on Error { code }
    }
  }`;

const BATCH = /* GraphQL */ `
  query($id: ID!, $status: [CommandStatus!], $first: Int, $after: String) {
    commandBatch(id: $id) {
      batchId targetCount
      counts { queued sent delivered failed expired missed cancelled total }
      commands(first: $first, after: $after, status: $status) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { deviceId status batch { batchId } groupId } }
      }
    }
  }`;

type Counts = Record<'queued' | 'sent' | 'delivered' | 'failed' | 'expired' | 'missed' | 'cancelled' | 'total', number>;
type Batch = { batchId: string; targetCount: number; counts: Counts; commands: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ node: { deviceId: string; status: string } }> } };

async function readBatch(token: string, id: string, variables: Record<string, unknown> = {}): Promise<Batch | null> {
  const result = await app.gql<{ commandBatch: Batch | null }>(token, BATCH, { id, ...variables });
  if (!result.data) throw new Error(JSON.stringify(result.errors));
  return result.data.commandBatch;
}

const zero: Counts = { queued: 0, sent: 0, delivered: 0, failed: 0, expired: 0, missed: 0, cancelled: 0, total: 0 };

describe('sendGroupCommand', () => {
  test('one command per current member (decommissioned ones left out); counts follow every transition', async ({ tenant }) => {
    const members = ['g-a', 'g-b', 'g-c', 'g-gone'];
    await registerDevices(app, tenant.token, [...members, 'outsider']);
    const groupId = await createStaticGroup(app, tenant.token, 'rack-1', members);
    await app.gql(tenant.token, 'mutation { decommissionDevice(input: { deviceId: "g-gone" }) { __typename } }');
    const a = await simulatedDevice(app, tenant.tenantId, 'g-a');
    const b = await simulatedDevice(app, tenant.tenantId, 'g-b');
    const c = await simulatedDevice(app, tenant.tenantId, 'g-c');
    await a.online();
    await b.online();

    const sent = await app.gql<{ sendGroupCommand: { batch: { id: string; batchId: string; targetCount: number; counts: Counts } } }>(tenant.token, SEND_GROUP, {
      input: { groupId, commandType: 'reboot', params: { delay: 5 }, ttlSeconds: 600 },
    });
    const batch = sent.data!.sendGroupCommand.batch;
    expect(batch).toMatchObject({ targetCount: 3, counts: { queued: 3, sent: 0, delivered: 0, total: 3 } });
    await app.pulse.app.reactions.idle();
    expect((await readBatch(tenant.token, batch.id))!.counts).toEqual({ ...zero, queued: 1, sent: 2, total: 3 });

    const toA = await a.nextCommand();
    const toB = await b.nextCommand();
    expect(toA).toMatchObject({ commandType: 'reboot', params: { delay: 5 } });
    await a.ack(toA.commandId);
    await b.ack(toB.commandId, { status: 'failed', error: 'busy' });
    expect((await readBatch(tenant.token, batch.batchId))!.counts).toEqual({ ...zero, queued: 1, delivered: 1, failed: 1, total: 3 });

    await c.online();
    await c.ack((await c.nextCommand()).commandId);
    const done = await readBatch(tenant.token, batch.id, { status: ['DELIVERED'] });
    expect(done!.counts).toEqual({ ...zero, delivered: 2, failed: 1, total: 3 });
    expect(done!.commands.edges.map((edge) => edge.node)).toEqual([
      { deviceId: 'g-a', status: 'DELIVERED', batch: { batchId: batch.batchId }, groupId },
      { deviceId: 'g-c', status: 'DELIVERED', batch: { batchId: batch.batchId }, groupId },
    ]);
    // Pages, in device order.
    const page1 = await readBatch(tenant.token, batch.id, { first: 2 });
    const page2 = await readBatch(tenant.token, batch.id, { first: 2, after: page1!.commands.pageInfo.endCursor });
    expect([...page1!.commands.edges, ...page2!.commands.edges].map((edge) => edge.node.deviceId)).toEqual(['g-a', 'g-b', 'g-c']);
    expect(page1!.commands.pageInfo.hasNextPage).toBe(true);
    expect(page2!.commands.pageInfo.hasNextPage).toBe(false);
  });

  test('members are resolved at send time: a device added later gets nothing', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['early', 'joiner']);
    const groupId = await createStaticGroup(app, tenant.token, 'grows', ['early']);
    const first = await app.gql<{ sendGroupCommand: { batch: { id: string; targetCount: number } } }>(tenant.token, SEND_GROUP, { input: { groupId, commandType: 'sync' } });
    await app.gql(tenant.token, 'mutation($input: GroupMembersInput!) { addDevicesToGroup(input: $input) { __typename } }', { input: { groupId, deviceIds: ['joiner'] } });
    const batch = await readBatch(tenant.token, first.data!.sendGroupCommand.batch.id);
    expect(batch).toMatchObject({ targetCount: 1, counts: { ...zero, queued: 1, total: 1 } });
    expect(batch!.commands.edges.map((edge) => edge.node.deviceId)).toEqual(['early']);
  });

  test('a dynamic group targets the devices its filter matches at send time', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['dyn-1', 'dyn-2', 'other-1']);
    const created = await app.gql<{ createDynamicDeviceGroup: { group?: { groupId: string } } }>(
      tenant.token,
      'mutation($input: CreateDynamicDeviceGroupInput!) { createDynamicDeviceGroup(input: $input) { __typename ... on CreateDynamicDeviceGroupPayload { group { groupId } } } }',
      { input: { name: 'dyn', queryFilter: { deviceIdPrefix: 'dyn-' } } },
    );
    const groupId = created.data?.createDynamicDeviceGroup.group?.groupId;
    expect(groupId).toBeDefined();
    const sent = await app.gql<{ sendGroupCommand: { batch: { id: string; targetCount: number } } }>(tenant.token, SEND_GROUP, { input: { groupId, commandType: 'dyn' } });
    const batch = await readBatch(tenant.token, sent.data!.sendGroupCommand.batch.id);
    expect(batch!.targetCount).toBe(2);
    expect(batch!.commands.edges.map((edge) => edge.node.deviceId)).toEqual(['dyn-1', 'dyn-2']);
  });

  test('an empty group makes an empty batch; unknown, foreign and oversized groups are typed errors', async ({ tenant, otherTenant }) => {
    const empty = await createStaticGroup(app, tenant.token, 'empty', []);
    const result = await app.gql<{ sendGroupCommand: { batch: { targetCount: number; counts: Counts } } }>(tenant.token, SEND_GROUP, { input: { groupId: empty, commandType: 'x' } });
    expect(result.data!.sendGroupCommand.batch).toMatchObject({ targetCount: 0, counts: { total: 0 } });

    expect((await app.gql<{ sendGroupCommand: unknown }>(tenant.token, SEND_GROUP, { input: { groupId: 'nope', commandType: 'x' } })).data!.sendGroupCommand).toMatchObject({ __typename: 'NotFound' });
    const foreign = await createStaticGroup(app, otherTenant.token, 'theirs', []);
    expect((await app.gql<{ sendGroupCommand: unknown }>(tenant.token, SEND_GROUP, { input: { groupId: foreign, commandType: 'x' } })).data!.sendGroupCommand).toMatchObject({ __typename: 'NotFound' });

    const many = Array.from({ length: 6 }, (_, index) => `m-${index}`);
    await registerDevices(app, tenant.token, many);
    const big = await createStaticGroup(app, tenant.token, 'big', many);
    const refused = await app.gql<{ sendGroupCommand: unknown }>(tenant.token, SEND_GROUP, { input: { groupId: big, commandType: 'x' } });
    expect(refused.data!.sendGroupCommand).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'groupId'], code: 'TOO_BIG' }] });
    const bad = await app.gql<{ sendGroupCommand: unknown }>(tenant.token, SEND_GROUP, { input: { groupId: empty, commandType: 'x', params: [1], ttlSeconds: 0 } });
    expect(bad.data!.sendGroupCommand).toMatchObject({ __typename: 'ValidationError' });
    const listed = await app.gql<{ commands: { totalCount: number } }>(tenant.token, '{ commands { totalCount } }');
    expect(listed.data?.commands.totalCount).toBe(0);
    // Another tenant cannot read the batch.
    expect(await readBatch(otherTenant.token, (result.data!.sendGroupCommand.batch as unknown as { id?: string }).id ?? 'none')).toBeNull();
  });

  test('commandStatusChanged(batchId) streams the batch’s transitions only', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['s-1', 's-2', 'elsewhere']);
    const groupId = await createStaticGroup(app, tenant.token, 'streamed', ['s-1', 's-2']);
    const created = await app.gql<{ sendGroupCommand: { batch: { batchId: string } } }>(tenant.token, SEND_GROUP, { input: { groupId, commandType: 'blink' } });
    const batchId = created.data!.sendGroupCommand.batch.batchId;
    const client = wsClient(app.port, tenant.token);
    try {
      const listening = nextListener(app, 'commandStatusChanged', tenant.tenantId);
      const events = subscribe<{ commandStatusChanged: { deviceId: string; status: string; previousStatus: string | null; batchId: string; command: { status: string } | null } }>(
        client,
        'subscription($batchId: String) { commandStatusChanged(batchId: $batchId) { deviceId status previousStatus batchId command { status } } }',
        { batchId },
      );
      await listening;
      // A command outside the batch first: the subscriber must not see it.
      await app.gql(tenant.token, 'mutation { sendCommand(input: { deviceId: "elsewhere", commandType: "x" }) { __typename } }');
      const device = await simulatedDevice(app, tenant.tenantId, 's-1');
      await device.online();
      expect((await events.next()).commandStatusChanged).toMatchObject({ deviceId: 's-1', previousStatus: 'QUEUED', status: 'SENT', batchId });
      await events.close();
    } finally {
      await client.dispose();
    }
    const refused = wsClient(app.port, tenant.token);
    try {
      const stream = subscribe(refused, 'subscription { commandStatusChanged(batchId: "not-a-batch") { status } }');
      await expect(stream.next()).rejects.toThrow(/not found/i);
    } finally {
      await refused.dispose();
    }
  });
});
