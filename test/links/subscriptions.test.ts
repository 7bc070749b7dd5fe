import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { nextListener } from '../harness/listeners.js';
import { subscribe, wsClient, type Subscription } from '../harness/ws.js';
import { closeClients, good, poll, prepareTenant, registerCpe, startAccessPoint, uniqueMac, weak } from './helpers.js';

let app: TestApp;
const sockets: Client[] = [];
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await Promise.all(sockets.splice(0).map((client) => client.dispose()));
  await closeClients();
  await app.stop();
});

const SUBSCRIPTION = /* GraphQL */ `
  subscription($deviceId: String, $groupId: String, $states: [WirelessLinkState!]) {
    wirelessLinkStateChanged(deviceId: $deviceId, groupId: $groupId, states: $states) {
      eventId linkId apDeviceId apInterfaceName cpeDeviceId cpeMac fromState toState reason occurredAt
      link { state cpe { deviceId } }
    }
  }`;
type Event = { apDeviceId: string; cpeDeviceId: string | null; cpeMac: string; fromState: string | null; toState: string; reason: string; link: { state: string } | null };
type Payload = { wirelessLinkStateChanged: Event };

/** Subscribes and resolves once the subscription listens on the app's event bus. */
async function listen(token: string, tenantId: string, variables: Record<string, unknown> = {}): Promise<Subscription<Payload>> {
  const listening = nextListener(app, 'wirelessLinkStateChanged', tenantId);
  const client = wsClient(app.port, token);
  sockets.push(client);
  const subscription = subscribe<Payload>(client, SUBSCRIPTION, variables);
  await listening;
  return subscription;
}

const describeEvent = (event: Event) => `${event.apDeviceId}>${event.cpeDeviceId}:${event.fromState ?? 'NONE'}→${event.toState}:${event.reason}`;

async function take(subscription: Subscription<Payload>, count: number): Promise<string[]> {
  const events: string[] = [];
  for (let i = 0; i < count; i += 1) events.push(describeEvent((await subscription.next()).wirelessLinkStateChanged));
  return events;
}

describe('wirelessLinkStateChanged', () => {
  test('every transition after commit, in order, with the link re-read; only the tenant’s', async ({ tenant, otherTenant }) => {
    await prepareTenant(app, tenant.token);
    await prepareTenant(app, otherTenant.token);
    const mine = await listen(tenant.token, tenant.tenantId);
    const theirs = await listen(otherTenant.token, otherTenant.tenantId);
    const ap = await startAccessPoint(app, tenant, 'ap-1');
    const mac = uniqueMac();
    await registerCpe(app, tenant.token, 'cpe-1', mac);

    await poll(app, ap, [good(mac)]);
    await poll(app, ap, [good(mac)]);
    await poll(app, ap, [weak(mac)]);
    await poll(app, ap, []);
    await poll(app, ap, []);
    expect(await take(mine, 4)).toEqual([
      'ap-1>cpe-1:NONE→DISCOVERED:DISCOVERED',
      'ap-1>cpe-1:DISCOVERED→ACTIVE:CONFIRMED',
      'ap-1>cpe-1:ACTIVE→DEGRADED:SIGNAL_DEGRADED',
      'ap-1>cpe-1:DEGRADED→DOWN:MISSED_POLLS',
    ]);

    // The other tenant's subscriber got none of those: its first event is its own.
    const otherAp = await startAccessPoint(app, otherTenant, 'ap-other');
    const otherMac = uniqueMac();
    await registerCpe(app, otherTenant.token, 'cpe-other', otherMac);
    await poll(app, otherAp, [good(otherMac)]);
    const first = (await theirs.next()).wirelessLinkStateChanged;
    expect(describeEvent(first)).toBe('ap-other>cpe-other:NONE→DISCOVERED:DISCOVERED');
    expect(first.link).toEqual({ state: 'DISCOVERED', cpe: { deviceId: 'cpe-other' } });
  });

  test('filtered by device (as AP or CPE) and by target state', async ({ tenant }) => {
    await prepareTenant(app, tenant.token);
    const byCpe = await listen(tenant.token, tenant.tenantId, { deviceId: 'cpe-b' });
    const byAp = await listen(tenant.token, tenant.tenantId, { deviceId: 'ap-2' });
    const degraded = await listen(tenant.token, tenant.tenantId, { states: ['DEGRADED'] });
    const ap1 = await startAccessPoint(app, tenant, 'ap-1');
    const ap2 = await startAccessPoint(app, tenant, 'ap-2');
    const [a, b] = [uniqueMac(), uniqueMac()];
    await registerCpe(app, tenant.token, 'cpe-a', a);
    await registerCpe(app, tenant.token, 'cpe-b', b);

    await poll(app, ap1, [good(a)]);
    await poll(app, ap1, [weak(a), weak(b)]);
    await poll(app, ap2, [good(a)]);
    expect(await take(byCpe, 2)).toEqual(['ap-1>cpe-b:NONE→DISCOVERED:DISCOVERED', 'ap-1>cpe-b:DISCOVERED→DEGRADED:SIGNAL_DEGRADED']);
    expect(await take(byAp, 1)).toEqual(['ap-2>cpe-a:NONE→DISCOVERED:DISCOVERED']);
    expect(await take(degraded, 2)).toEqual(['ap-1>cpe-a:DISCOVERED→DEGRADED:SIGNAL_DEGRADED', 'ap-1>cpe-b:DISCOVERED→DEGRADED:SIGNAL_DEGRADED']);
  });

  test('filtered by group: links whose AP or CPE is a member', async ({ tenant }) => {
    await prepareTenant(app, tenant.token);
    const ap = await startAccessPoint(app, tenant, 'ap-1');
    const [a, b] = [uniqueMac(), uniqueMac()];
    await registerCpe(app, tenant.token, 'cpe-a', a);
    await registerCpe(app, tenant.token, 'cpe-b', b);
    const group = await app.gql<{ createDeviceGroup: { __typename: string; group?: { groupId: string } } }>(
      tenant.token,
      `mutation($input: CreateDeviceGroupInput!) { createDeviceGroup(input: $input) { __typename ... on CreateDeviceGroupPayload { group { groupId } } } }`,
      { input: { name: 'North' } },
    );
    expect(group.errors).toBeUndefined();
    const groupId = group.data!.createDeviceGroup.group!.groupId;
    const added = await app.gql<{ addDevicesToGroup: { __typename: string } }>(
      tenant.token,
      `mutation($input: GroupMembersInput!) { addDevicesToGroup(input: $input) { __typename } }`,
      { input: { groupId, deviceIds: ['cpe-b'] } },
    );
    expect(added.data?.addDevicesToGroup.__typename).toBe('AddDevicesToGroupPayload');
    const inGroup = await listen(tenant.token, tenant.tenantId, { groupId });

    await poll(app, ap, [good(a)]);
    await poll(app, ap, [good(a), good(b)]);
    expect(await take(inGroup, 1)).toEqual(['ap-1>cpe-b:NONE→DISCOVERED:DISCOVERED']);
  });

  test('an unknown group is refused with an error; the socket stays up', async ({ tenant }) => {
    const client = wsClient(app.port, tenant.token);
    sockets.push(client);
    const refused = subscribe<Payload>(client, SUBSCRIPTION, { groupId: 'nope' });
    await expect(refused.next()).rejects.toThrow(/not found/i);
  });
});
