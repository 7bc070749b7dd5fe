import type { Client } from 'graphql-ws';
import type { MqttClient } from 'mqtt';
import { afterEach } from 'vitest';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { nextListener } from '../harness/listeners.js';
import { uniqueName } from '../harness/postgres.js';
import { buildTopic } from '../harness/topics.js';
import { subscribe, wsClient, type Subscription } from '../harness/ws.js';
import type { PulseEventName } from '../../src/events/events.js';
import { closeClients, deviceClient, nextSettled, publishSettled, status } from '../connectivity/support.js';
import {
  addMembers,
  closeOwnerSql,
  createDynamicGroup,
  createSite,
  createStaticGroup,
  DEVICE_IDS,
  expectResult,
  groupMembers,
  keepPresence,
  ok,
  ownerSql,
  registerDevice,
  registerDevices,
  REMOVE_MEMBERS,
  UPDATE_DESIRED,
  UPDATE_DEVICE,
  UPSERT_CONNECTION,
} from './support.js';

/**
 * Read-your-writes (a device that changed is in or out of a dynamic group at the very next read),
 * membership events (JOINED / LEFT over graphql-ws) and group-scoped device subscriptions. Device
 * changes go through the real paths: MQTT status and twin reports, updateDevice, connections.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
const sockets: Client[] = [];
const subscriptions: Array<Subscription<unknown>> = [];
afterEach(async () => {
  await Promise.all(subscriptions.splice(0).map((subscription) => subscription.close()));
  await Promise.all(sockets.splice(0).map((socket) => socket.dispose()));
  await closeClients();
});
afterAll(async () => {
  await app?.stop();
  await closeOwnerSql();
});

/** A bound on a wait that would otherwise hang the test until its timeout: it fails, naming what never came. */
function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

const MEMBERSHIP = /* GraphQL */ `
  subscription($groupId: String!) { deviceGroupMembershipChanged(groupId: $groupId) { groupId deviceId change occurredAt device { deviceId } } }`;
const CONNECTIVITY = /* GraphQL */ `
  subscription($groupId: String) { deviceConnectivityChanged(groupId: $groupId) { deviceId status } }`;
const TWIN = /* GraphQL */ `
  subscription($groupId: String) { deviceTwinChanged(groupId: $groupId) { deviceId direction } }`;

type Membership = { deviceGroupMembershipChanged: { groupId: string; deviceId: string; change: 'JOINED' | 'LEFT'; device: { deviceId: string } | null } };

/** Starts subscriptions over one socket and resolves once all of them listen on the event bus. */
async function listen<T>(token: string, tenantId: string, event: PulseEventName, query: string, variables: Array<Record<string, unknown>>): Promise<Array<Subscription<T>>> {
  const client = wsClient(app.port, token);
  sockets.push(client);
  const listening = nextListener(app, event, tenantId, variables.length);
  const started = variables.map((vars) => subscribe<T>(client, query, vars));
  subscriptions.push(...(started as Array<Subscription<unknown>>));
  await within(listening, `${event} listener`);
  return started;
}

/** The next membership event of a subscription, as `JOINED dev-1`. */
const nextChange = async (subscription: Subscription<Membership>, what = 'membership event') => {
  const event = (await within(subscription.next(), what)).deviceGroupMembershipChanged;
  return `${event.change} ${event.deviceId}`;
};

/** An anonymous device client on the app's private broker, publishing presence and twin reports as a device does. */
async function device(tenantId: string, deviceId: string) {
  const client: MqttClient = await deviceClient({ url: app.mqttUrl });
  return {
    online: () => publishSettled(app, client, buildTopic.status(tenantId, deviceId), status('online', uniqueName('s'))),
    offline: () => publishSettled(app, client, buildTopic.status(tenantId, deviceId), status('offline')),
    report: (state: object) => publishSettled(app, client, buildTopic.twinReported(tenantId, deviceId), JSON.stringify({ state })),
  };
}

describe('read-your-writes', () => {
  test('a device is in or out of a dynamic group at the very next read after its tags, status, twin or connection change', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await createSite(app, tenant.token, 'plant');
    await registerDevices(app, tenant.token, ['ryw-1', 'ryw-2']);
    const groups = {
      tags: await createDynamicGroup(app, tenant.token, 'edge', { tags: [{ key: 'role', value: 'edge' }] }),
      site: await createDynamicGroup(app, tenant.token, 'plant', { siteId: 'plant' }),
      status: await createDynamicGroup(app, tenant.token, 'online', { status: ['ONLINE'] }),
      reported: await createDynamicGroup(app, tenant.token, 'fw2', { reported: [{ path: 'fw', operator: 'EQ', value: '2.0' }] }),
      sync: await createDynamicGroup(app, tenant.token, 'pending', { syncStatus: ['PENDING'] }),
      connection: await createDynamicGroup(app, tenant.token, 'hologram', { carrier: 'hologram', not: { simStatus: ['SUSPENDED'] } }),
    };
    // Every read path: the group's members, memberCount, and devices(filter: { groupId }).
    const members = async (groupId: string) => {
      const group = await groupMembers(app, tenant.token, groupId);
      const listed = await ok<{ devices: { edges: Array<{ node: { deviceId: string } }> } }>(app, tenant.token, DEVICE_IDS, { filter: { groupId } });
      expect(listed.devices.edges.map((edge) => edge.node.deviceId)).toEqual(group.ids);
      expect(group.memberCount).toBe(group.ids.length);
      return group.ids;
    };
    for (const groupId of Object.values(groups)) expect(await members(groupId)).toEqual([]);

    await expectResult(app, tenant.token, UPDATE_DEVICE, { deviceId: 'ryw-1', tags: [{ key: 'role', value: 'edge' }], siteId: 'plant' }, 'UpdateDevicePayload');
    expect(await members(groups.tags)).toEqual(['ryw-1']);
    expect(await members(groups.site)).toEqual(['ryw-1']);
    await expectResult(app, tenant.token, UPDATE_DEVICE, { deviceId: 'ryw-1', tags: [], siteId: null }, 'UpdateDevicePayload');
    expect(await members(groups.tags)).toEqual([]);
    expect(await members(groups.site)).toEqual([]);

    const one = await device(tenant.tenantId, 'ryw-1');
    expect(await one.online()).toEqual({ status: 'applied' });
    expect(await members(groups.status)).toEqual(['ryw-1']);

    await expectResult(app, tenant.token, UPDATE_DESIRED, { deviceId: 'ryw-1', desired: { fw: '2.0' } }, 'UpdateDeviceTwinDesiredPayload');
    expect(await members(groups.sync)).toEqual(['ryw-1']); // desired differs, device online
    expect(await one.report({ fw: '2.0' })).toEqual({ status: 'applied' });
    expect(await members(groups.reported)).toEqual(['ryw-1']);
    expect(await members(groups.sync)).toEqual([]); // in sync now
    expect(await one.offline()).toEqual({ status: 'applied' });
    expect(await members(groups.status)).toEqual([]);

    await expectResult(app, tenant.token, UPSERT_CONNECTION, { deviceId: 'ryw-2', carrierName: 'Hologram', simStatus: 'ACTIVE' }, 'UpsertDeviceConnectionPayload');
    expect(await members(groups.connection)).toEqual(['ryw-2']);
    await expectResult(app, tenant.token, UPSERT_CONNECTION, { deviceId: 'ryw-2', simStatus: 'SUSPENDED' }, 'UpsertDeviceConnectionPayload');
    expect(await members(groups.connection)).toEqual([]);
  });
});

describe('deviceGroupMembershipChanged', () => {
  test('static groups: JOINED on add, LEFT on remove, nothing for a call that changes nothing', async ({ tenant }) => {
    await registerDevices(app, tenant.token, ['s-1', 's-2', 's-3']);
    const groupId = await createStaticGroup(app, tenant.token, 'static');
    const [events] = await listen<Membership>(tenant.token, tenant.tenantId, 'deviceGroupMembershipChanged', MEMBERSHIP, [{ groupId }]);

    await addMembers(app, tenant.token, groupId, ['s-1', 's-2', 'nobody']);
    expect([await nextChange(events!), await nextChange(events!)].sort()).toEqual(['JOINED s-1', 'JOINED s-2']);
    // Adding members again changes nothing, so the next event is the one after it.
    await addMembers(app, tenant.token, groupId, ['s-1', 's-2']);
    await addMembers(app, tenant.token, groupId, ['s-3']);
    expect(await nextChange(events!)).toBe('JOINED s-3');
    await expectResult(app, tenant.token, REMOVE_MEMBERS, { groupId, deviceIds: ['s-1', 'nobody'] }, 'RemoveDevicesFromGroupPayload');
    expect(await nextChange(events!)).toBe('LEFT s-1');
    await expectResult(app, tenant.token, REMOVE_MEMBERS, { groupId, deviceIds: ['s-1'] }, 'RemoveDevicesFromGroupPayload');
    await expectResult(app, tenant.token, REMOVE_MEMBERS, { groupId, deviceIds: ['s-2'] }, 'RemoveDevicesFromGroupPayload');
    expect(await nextChange(events!)).toBe('LEFT s-2');
  });

  test('dynamic groups: JOINED / LEFT when tags, site, status, twin, connection or registration move a device in or out', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await createSite(app, tenant.token, 'plant');
    await registerDevices(app, tenant.token, ['d-1', 'd-2']);
    const staticId = await createStaticGroup(app, tenant.token, 'hand-picked');
    const ids = {
      tags: await createDynamicGroup(app, tenant.token, 'edge', { tags: [{ key: 'role', value: 'edge' }] }),
      site: await createDynamicGroup(app, tenant.token, 'plant', { siteId: 'plant' }),
      status: await createDynamicGroup(app, tenant.token, 'online edge', { status: ['ONLINE'], tagsAny: [{ key: 'role' }] }),
      twin: await createDynamicGroup(app, tenant.token, 'fw2', { reported: [{ path: 'fw', operator: 'EQ', value: '2.0' }] }),
      sync: await createDynamicGroup(app, tenant.token, 'pending', { syncStatus: ['PENDING'] }),
      connection: await createDynamicGroup(app, tenant.token, 'cellular', { connectionType: ['CELLULAR'] }),
      prefix: await createDynamicGroup(app, tenant.token, 'late', { deviceIdPrefix: 'late-' }),
      everything: await createDynamicGroup(app, tenant.token, 'everything', {}),
      nested: await createDynamicGroup(app, tenant.token, 'picked and online', { groupId: staticId, status: ['ONLINE'] }),
    };
    const names = Object.keys(ids) as Array<keyof typeof ids>;
    const subs = await listen<Membership>(tenant.token, tenant.tenantId, 'deviceGroupMembershipChanged', MEMBERSHIP, names.map((name) => ({ groupId: ids[name] })));
    const events = Object.fromEntries(names.map((name, index) => [name, subs[index]!])) as Record<keyof typeof ids, Subscription<Membership>>;
    const next = (name: keyof typeof ids) => nextChange(events[name], `membership event of ${name}`);

    await expectResult(app, tenant.token, UPDATE_DEVICE, { deviceId: 'd-1', tags: [{ key: 'role', value: 'edge' }], siteId: 'plant' }, 'UpdateDevicePayload');
    expect(await next('tags')).toBe('JOINED d-1');
    expect(await next('site')).toBe('JOINED d-1');
    await expectResult(app, tenant.token, UPDATE_DEVICE, { deviceId: 'd-1', tags: [{ key: 'role', value: 'core' }] }, 'UpdateDevicePayload');
    expect(await next('tags')).toBe('LEFT d-1');

    const one = await device(tenant.tenantId, 'd-1');
    const two = await device(tenant.tenantId, 'd-2');
    await two.online(); // no role tag: not in "online edge"
    await one.online();
    expect(await next('status')).toBe('JOINED d-1');
    await expectResult(app, tenant.token, UPDATE_DESIRED, { deviceId: 'd-1', desired: { fw: '2.0' } }, 'UpdateDeviceTwinDesiredPayload');
    expect(await next('sync')).toBe('JOINED d-1');
    await one.report({ fw: '2.0' });
    expect(await next('twin')).toBe('JOINED d-1');
    expect(await next('sync')).toBe('LEFT d-1');
    await one.offline();
    expect(await next('status')).toBe('LEFT d-1');

    await expectResult(app, tenant.token, UPSERT_CONNECTION, { deviceId: 'd-2', connectionType: 'CELLULAR' }, 'UpsertDeviceConnectionPayload');
    expect(await next('connection')).toBe('JOINED d-2');
    await expectResult(app, tenant.token, UPSERT_CONNECTION, { deviceId: 'd-2', connectionType: 'WIFI' }, 'UpsertDeviceConnectionPayload');
    expect(await next('connection')).toBe('LEFT d-2');

    // A static add moves a dynamic group that names the static one.
    await addMembers(app, tenant.token, staticId, ['d-2']);
    expect(await next('nested')).toBe('JOINED d-2');

    // A new device enters the groups it matches, whatever they look at; a decommissioned one leaves.
    await registerDevice(app, tenant.token, { deviceId: 'late-1' });
    expect(await next('prefix')).toBe('JOINED late-1');
    expect(await next('everything')).toBe('JOINED late-1');
    await expectResult(app, tenant.token, `mutation { decommissionDevice(input: { deviceId: "late-1" }) { __typename } }`, undefined, 'DecommissionDevicePayload');
    expect(await next('prefix')).toBe('LEFT late-1');
    expect(await next('everything')).toBe('LEFT late-1');

    // Changing the filter itself: who leaves and who joins by it.
    await expectResult(app, tenant.token, `mutation($input: UpdateDeviceGroupInput!) { updateDeviceGroup(input: $input) { __typename } }`, { groupId: ids.tags, queryFilter: { tags: [{ key: 'role', value: 'core' }] } }, 'UpdateDeviceGroupPayload');
    expect(await next('tags')).toBe('JOINED d-1');
  });

  test('rapid changes of one device: its events alternate and its snapshot ends as the live membership', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await registerDevices(app, tenant.token, ['flip', 'marker']);
    const groupId = await createDynamicGroup(app, tenant.token, 'flipping', { status: ['ONLINE'] });
    const [events] = await listen<Membership>(tenant.token, tenant.tenantId, 'deviceGroupMembershipChanged', MEMBERSHIP, [{ groupId }]);
    // Twenty presence changes published at once: the bridge commits them in several batches, and
    // the reactions of one batch run while the next batch commits.
    const client = await deviceClient({ url: app.mqttUrl });
    const topic = buildTopic.status(tenant.tenantId, 'flip');
    const settled = nextSettled(app, topic, 20);
    await Promise.all(Array.from({ length: 20 }, (_, i) => client.publishAsync(topic, i % 2 === 0 ? status('online', `s-${i}`) : status('offline', `s-${i - 1}`), { qos: 1 })));
    await within(settled, 'twenty settled status messages');
    await app.pulse.app.reactions.idle();
    const live = (await groupMembers(app, tenant.token, groupId)).ids;
    const snapshot = await ownerSql<{ device_id: string }>(`SELECT device_id FROM device_group_dynamic_members WHERE tenant_id = $1 AND group_id = $2`, [tenant.tenantId, groupId]);
    expect(snapshot.map((row) => row.device_id)).toEqual(live);

    await (await device(tenant.tenantId, 'marker')).online();
    const seen: string[] = [];
    for (let change = await nextChange(events!); change !== 'JOINED marker'; change = await nextChange(events!)) seen.push(change);
    // However the evaluations raced, each one saw a state at least as new as the one before.
    expect(seen.every((change, index) => change === (index % 2 === 0 ? 'JOINED flip' : 'LEFT flip')), seen.join(', ')).toBe(true);
    expect(seen.length % 2, seen.join(', ')).toBe(live.includes('flip') ? 1 : 0);
  });
});

describe('group-scoped device subscriptions', () => {
  test("deviceConnectivityChanged(groupId) and deviceTwinChanged(groupId) deliver members' events only, membership checked per event", async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await registerDevice(app, tenant.token, { deviceId: 'in', tags: [{ key: 'role', value: 'edge' }] });
    await registerDevice(app, tenant.token, { deviceId: 'out' });
    const dynamicId = await createDynamicGroup(app, tenant.token, 'edge', { tags: [{ key: 'role', value: 'edge' }] });
    const staticId = await createStaticGroup(app, tenant.token, 'picked');
    await addMembers(app, tenant.token, staticId, ['out']);
    const [byDynamic, byStatic] = await listen<{ deviceConnectivityChanged: { deviceId: string; status: string } }>(
      tenant.token, tenant.tenantId, 'deviceConnectivityChanged', CONNECTIVITY, [{ groupId: dynamicId }, { groupId: staticId }],
    );
    const [twinByDynamic] = await listen<{ deviceTwinChanged: { deviceId: string; direction: string } }>(tenant.token, tenant.tenantId, 'deviceTwinChanged', TWIN, [{ groupId: dynamicId }]);
    const connectivity = async (subscription: typeof byDynamic) => {
      const event = (await within(subscription!.next(), 'connectivity event')).deviceConnectivityChanged;
      return `${event.deviceId} ${event.status}`;
    };
    const inDevice = await device(tenant.tenantId, 'in');
    const outDevice = await device(tenant.tenantId, 'out');

    // Events are delivered in order, so the first one each subscriber sees proves the other was filtered out.
    await outDevice.online();
    await inDevice.online();
    expect(await connectivity(byDynamic)).toBe('in ONLINE');
    expect(await connectivity(byStatic)).toBe('out ONLINE');

    await outDevice.report({ fw: '1' });
    await inDevice.report({ fw: '1' });
    expect((await within(twinByDynamic!.next(), 'twin event')).deviceTwinChanged).toEqual({ deviceId: 'in', direction: 'REPORTED' });

    // Membership is the one at each event: "in" leaves the dynamic group, "out" joins it.
    await expectResult(app, tenant.token, UPDATE_DEVICE, { deviceId: 'in', tags: [] }, 'UpdateDevicePayload');
    await expectResult(app, tenant.token, UPDATE_DEVICE, { deviceId: 'out', tags: [{ key: 'role', value: 'edge' }] }, 'UpdateDevicePayload');
    await inDevice.offline();
    await outDevice.offline();
    expect(await connectivity(byDynamic)).toBe('out OFFLINE');
    expect(await connectivity(byStatic)).toBe('out OFFLINE');
  });

  test('a scoped subscription follows its dynamic group: a changed filter applies from the next event, a deleted group ends it', async ({ tenant }) => {
    await keepPresence(app, tenant.token);
    await registerDevice(app, tenant.token, { deviceId: 'edge-1', tags: [{ key: 'role', value: 'edge' }] });
    await registerDevice(app, tenant.token, { deviceId: 'core-1', tags: [{ key: 'role', value: 'core' }] });
    const groupId = await createDynamicGroup(app, tenant.token, 'role', { tags: [{ key: 'role', value: 'edge' }] });
    const [scoped, all] = await listen<{ deviceConnectivityChanged: { deviceId: string; status: string } }>(
      tenant.token, tenant.tenantId, 'deviceConnectivityChanged', CONNECTIVITY, [{ groupId }, {}],
    );
    const connectivity = async (subscription: typeof scoped) => {
      const event = (await within(subscription!.next(), 'connectivity event')).deviceConnectivityChanged;
      return `${event.deviceId} ${event.status}`;
    };
    const edge = await device(tenant.tenantId, 'edge-1');
    const core = await device(tenant.tenantId, 'core-1');
    await edge.online();
    expect(await connectivity(scoped)).toBe('edge-1 ONLINE');

    await expectResult(app, tenant.token, `mutation($input: UpdateDeviceGroupInput!) { updateDeviceGroup(input: $input) { __typename } }`, { groupId, queryFilter: { tags: [{ key: 'role', value: 'core' }] } }, 'UpdateDeviceGroupPayload');
    await edge.offline();
    await core.online();
    expect(await connectivity(scoped)).toBe('core-1 ONLINE');

    // A deleted dynamic group ends the subscription with NotFound at its next event.
    await expectResult(app, tenant.token, `mutation($input: DeleteDeviceGroupInput!) { deleteDeviceGroup(input: $input) { __typename } }`, { groupId }, 'DeleteDeviceGroupPayload');
    await core.offline();
    const ended = await within(scoped!.next(), 'the end of the subscription').then(
      (event) => `an event: ${JSON.stringify(event)}`,
      (error: unknown) => JSON.stringify(error),
    );
    expect(ended).toMatch(/NOT_FOUND/);
    for (const expected of ['edge-1 ONLINE', 'edge-1 OFFLINE', 'core-1 ONLINE', 'core-1 OFFLINE']) expect(await connectivity(all)).toBe(expected);
  });

  test('a group of another tenant cannot scope a subscription, and no event crosses tenants', async ({ tenant, otherTenant }) => {
    await registerDevices(app, tenant.token, ['mine']);
    await registerDevices(app, otherTenant.token, ['mine', 'theirs']);
    const groupId = await createStaticGroup(app, tenant.token, 'mine');
    const theirGroup = await createStaticGroup(app, otherTenant.token, 'theirs');

    for (const query of [MEMBERSHIP, CONNECTIVITY, TWIN]) {
      const client = wsClient(app.port, otherTenant.token);
      sockets.push(client);
      const foreign = subscribe(client, query, { groupId });
      subscriptions.push(foreign);
      await expect(within(foreign.next(), 'refusal')).rejects.toThrow(/not found/i);
    }

    const [mineEvents] = await listen<Membership>(tenant.token, tenant.tenantId, 'deviceGroupMembershipChanged', MEMBERSHIP, [{ groupId }]);
    const [theirEvents] = await listen<Membership>(otherTenant.token, otherTenant.tenantId, 'deviceGroupMembershipChanged', MEMBERSHIP, [{ groupId: theirGroup }]);
    // The other tenant adds its own "mine" to its group after this tenant's add: each sees only its own.
    await addMembers(app, tenant.token, groupId, ['mine']);
    await addMembers(app, otherTenant.token, theirGroup, ['theirs']);
    const ours = (await within(mineEvents!.next(), 'own event')).deviceGroupMembershipChanged;
    expect(ours).toMatchObject({ groupId, deviceId: 'mine', change: 'JOINED', device: { deviceId: 'mine' } });
    expect(await nextChange(theirEvents!)).toBe('JOINED theirs');
  });
});
