import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { registerDevice } from '../connectivity/support.js';
import { closeClients, good, linkTo, poll, prepareTenant, registerInterface, startAccessPoint, uniqueMac } from './helpers.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await closeClients();
  await app.stop();
});

const UPDATE = /* GraphQL */ `
  mutation($input: UpdateDeviceInterfaceInput!) {
    updateDeviceInterface(input: $input) {
      __typename
      ... on UpdateDeviceInterfacePayload { interface { interfaceId name macAddress kind } resolvedLinks { cpeMac cpeDeviceId } }
      ... on AlreadyExists { resource key }
      ... on NotFound { resource key }
      ... on ValidationError { issues { path code } }
    }
  }`;
const DELETE = /* GraphQL */ `
  mutation($input: DeleteDeviceInterfaceInput!) {
    deleteDeviceInterface(input: $input) {
      __typename
      ... on DeleteDeviceInterfacePayload { deletedInterfaceId device { deviceId interfaces { name } } }
      ... on NotFound { resource key }
      ... on ValidationError { issues { path code } }
    }
  }`;
const DEVICE_INTERFACES = /* GraphQL */ `
  query($deviceId: String!) { device(deviceId: $deviceId) { interfaces { id interfaceId name macAddress kind device { deviceId } } } }`;

type Result = { __typename: string } & Record<string, unknown>;

async function update(token: string, input: Record<string, unknown>): Promise<Result> {
  const result = await app.gql<{ updateDeviceInterface: Result }>(token, UPDATE, { input });
  expect(result.errors).toBeUndefined();
  return result.data!.updateDeviceInterface;
}

async function remove(token: string, interfaceId: string): Promise<Result> {
  const result = await app.gql<{ deleteDeviceInterface: Result }>(token, DELETE, { input: { interfaceId } });
  expect(result.errors).toBeUndefined();
  return result.data!.deleteDeviceInterface;
}

async function interfacesOf(token: string, deviceId: string) {
  const result = await app.gql<{ device: { interfaces: Array<{ id: string; interfaceId: string; name: string; macAddress: string; kind: string }> } | null }>(
    token,
    DEVICE_INTERFACES,
    { deviceId },
  );
  expect(result.errors).toBeUndefined();
  return result.data!.device?.interfaces ?? null;
}

describe('registerDeviceInterface', () => {
  test.for([
    ['colon, upper case', 'AA:BB:CC:00:11:22'],
    ['dash', 'aa-bb-cc-00-11-22'],
    ['Cisco dotted', 'AABB.CC00.1122'],
    ['bare hex', 'aabbcc001122'],
  ])('accepts %s and stores the MAC normalised', async ([, notation], { tenant }) => {
    await registerDevice(app, tenant.token, 'cpe-1');
    const result = await registerInterface(app, tenant.token, { deviceId: 'cpe-1', name: 'wlan0', macAddress: notation, kind: 'WIFI' });
    expect(result).toMatchObject({ __typename: 'RegisterDeviceInterfacePayload', interface: { deviceId: 'cpe-1', name: 'wlan0', macAddress: 'aa:bb:cc:00:11:22', kind: 'WIFI' } });
    expect(await interfacesOf(tenant.token, 'cpe-1')).toEqual([expect.objectContaining({ macAddress: 'aa:bb:cc:00:11:22', kind: 'WIFI' })]);
    // node(id) reads it back.
    const node = await app.gql<{ node: { macAddress: string } | null }>(tenant.token, `query($id: ID!) { node(id: $id) { ... on DeviceInterface { macAddress } } }`, {
      id: result.interface!.id,
    });
    expect(node.data?.node).toEqual({ macAddress: 'aa:bb:cc:00:11:22' });
  });

  test('a MAC is unique per tenant, in any notation; a name per device; another tenant may use the same MAC', async ({ tenant, otherTenant }) => {
    await registerDevice(app, tenant.token, 'cpe-1');
    await registerDevice(app, tenant.token, 'cpe-2');
    await registerDevice(app, otherTenant.token, 'cpe-1');
    expect((await registerInterface(app, tenant.token, { deviceId: 'cpe-1', name: 'wlan0', macAddress: '00:11:22:33:44:55' })).__typename).toBe(
      'RegisterDeviceInterfacePayload',
    );
    expect(await registerInterface(app, tenant.token, { deviceId: 'cpe-2', name: 'wlan0', macAddress: '0011.2233.4455' })).toMatchObject({
      __typename: 'AlreadyExists',
      resource: 'DeviceInterface',
      key: '00:11:22:33:44:55',
    });
    expect(await registerInterface(app, tenant.token, { deviceId: 'cpe-1', name: 'wlan0', macAddress: '00:11:22:33:44:66' })).toMatchObject({
      __typename: 'AlreadyExists',
      key: 'cpe-1/wlan0',
    });
    expect((await registerInterface(app, otherTenant.token, { deviceId: 'cpe-1', name: 'wlan0', macAddress: '00-11-22-33-44-55' })).__typename).toBe(
      'RegisterDeviceInterfacePayload',
    );
    expect(await interfacesOf(tenant.token, 'cpe-2')).toEqual([]);
  });

  test.for<[string, Record<string, unknown>, string[]]>([
    ['a MAC that is not one', { macAddress: 'zz:zz:zz:zz:zz:zz' }, ['input', 'macAddress']],
    ['a short MAC', { macAddress: 'aa:bb:cc:dd:ee' }, ['input', 'macAddress']],
    ['mixed separators', { macAddress: 'aa:bb-cc:dd:ee:ff' }, ['input', 'macAddress']],
    ['an empty name', { name: '' }, ['input', 'name']],
    ['a name with a space', { name: 'wlan 0' }, ['input', 'name']],
    ['a long name', { name: 'x'.repeat(65) }, ['input', 'name']],
    ['a NUL in the name', { name: 'wl\u0000an' }, ['input', 'name']],
    ['a bad device ID', { deviceId: 'a/b' }, ['input', 'deviceId']],
  ])('refuses %s with a typed error', async ([, override, path], { tenant }) => {
    await registerDevice(app, tenant.token, 'cpe-1');
    const result = await registerInterface(app, tenant.token, { deviceId: 'cpe-1', name: 'wlan0', macAddress: uniqueMac(), ...override });
    expect(result.__typename).toBe('ValidationError');
    expect(result.issues?.map((issue) => issue.path)).toContainEqual(path);
    expect(await interfacesOf(tenant.token, 'cpe-1')).toEqual([]);
  });

  test('an unknown device is NotFound; an operator may not write', async ({ tenant }) => {
    expect(await registerInterface(app, tenant.token, { deviceId: 'nope', name: 'wlan0', macAddress: uniqueMac() })).toMatchObject({ __typename: 'NotFound', resource: 'Device' });
    const result = await app.gql(tenant.operatorToken, `mutation($input: RegisterDeviceInterfaceInput!) { registerDeviceInterface(input: $input) { __typename } }`, {
      input: { deviceId: 'nope', name: 'wlan0', macAddress: uniqueMac() },
    });
    expect(result.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });
});

describe('updateDeviceInterface and deleteDeviceInterface', () => {
  test('a new MAC detaches the old links and resolves what APs reported under the new one', async ({ tenant }) => {
    await prepareTenant(app, tenant.token);
    const ap = await startAccessPoint(app, tenant, 'ap-1');
    const [oldMac, newMac] = [uniqueMac(), uniqueMac()];
    await registerDevice(app, tenant.token, 'cpe-1');
    const created = await registerInterface(app, tenant.token, { deviceId: 'cpe-1', name: 'wlan0', macAddress: oldMac });
    await poll(app, ap, [good(oldMac), good(newMac)]);
    expect((await linkTo(app, tenant.token, 'ap-1', oldMac)).cpeDeviceId).toBe('cpe-1');

    const updated = await update(tenant.token, { interfaceId: created.interface!.interfaceId, macAddress: newMac.toUpperCase(), kind: 'ETHERNET' });
    expect(updated).toMatchObject({
      __typename: 'UpdateDeviceInterfacePayload',
      interface: { name: 'wlan0', macAddress: newMac, kind: 'ETHERNET' },
      resolvedLinks: [{ cpeMac: newMac, cpeDeviceId: 'cpe-1' }],
    });
    // The link of the old MAC stays (it is the AP radio and that station) without its CPE.
    expect(await linkTo(app, tenant.token, 'ap-1', oldMac)).toMatchObject({ cpeDeviceId: null, cpe: null, cpeInterface: null });
    // Re-registering the old MAC on another device attaches that link to it.
    await registerDevice(app, tenant.token, 'cpe-2');
    const again = await registerInterface(app, tenant.token, { deviceId: 'cpe-2', name: 'wlan0', macAddress: oldMac });
    expect(again.resolvedLinks).toEqual([expect.objectContaining({ cpeMac: oldMac, cpeDeviceId: 'cpe-2' })]);
  });

  test('renaming an AP radio interface moves the AP side of its links; conflicts are AlreadyExists', async ({ tenant }) => {
    await prepareTenant(app, tenant.token);
    const ap = await startAccessPoint(app, tenant, 'ap-1');
    const mac = uniqueMac();
    await registerDevice(app, tenant.token, 'cpe-1');
    await registerInterface(app, tenant.token, { deviceId: 'cpe-1', name: 'wlan0', macAddress: mac });
    const radio = await registerInterface(app, tenant.token, { deviceId: 'ap-1', name: 'wlan0', macAddress: uniqueMac() });
    const other = await registerInterface(app, tenant.token, { deviceId: 'ap-1', name: 'eth0', macAddress: uniqueMac() });
    await poll(app, ap, [good(mac)]);
    expect((await linkTo(app, tenant.token, 'ap-1', mac)).apInterface).toEqual({ name: 'wlan0' });

    expect(await update(tenant.token, { interfaceId: radio.interface!.interfaceId, name: 'eth0' })).toMatchObject({ __typename: 'AlreadyExists', key: 'ap-1/eth0' });
    expect(await update(tenant.token, { interfaceId: radio.interface!.interfaceId, macAddress: other.interface!.macAddress })).toMatchObject({ __typename: 'AlreadyExists' });
    expect((await update(tenant.token, { interfaceId: radio.interface!.interfaceId, name: 'ath0' })).__typename).toBe('UpdateDeviceInterfacePayload');
    expect((await linkTo(app, tenant.token, 'ap-1', mac)).apInterface).toBeNull();
    expect(await update(tenant.token, { interfaceId: '00000000-0000-4000-8000-000000000000', name: 'x' })).toMatchObject({ __typename: 'NotFound' });
    expect(await update(tenant.token, { interfaceId: 'not-a-uuid', name: 'x' })).toMatchObject({ __typename: 'ValidationError' });
  });

  test('deleting an interface keeps its links without a CPE; another tenant cannot delete it', async ({ tenant, otherTenant }) => {
    await prepareTenant(app, tenant.token);
    const ap = await startAccessPoint(app, tenant, 'ap-1');
    const mac = uniqueMac();
    await registerDevice(app, tenant.token, 'cpe-1');
    const created = await registerInterface(app, tenant.token, { deviceId: 'cpe-1', name: 'wlan0', macAddress: mac });
    await poll(app, ap, [good(mac)]);
    const interfaceId = created.interface!.interfaceId;

    expect(await remove(otherTenant.token, interfaceId)).toMatchObject({ __typename: 'NotFound' });
    expect(await remove(tenant.token, interfaceId)).toMatchObject({ __typename: 'DeleteDeviceInterfacePayload', deletedInterfaceId: interfaceId, device: { interfaces: [] } });
    expect(await remove(tenant.token, interfaceId)).toMatchObject({ __typename: 'NotFound' });
    expect(await linkTo(app, tenant.token, 'ap-1', mac)).toMatchObject({ cpeDeviceId: null, state: 'DISCOVERED' });
    // The next poll still knows the link: it is refreshed, not turned into an unresolved registration.
    await poll(app, ap, [good(mac)]);
    expect(await linkTo(app, tenant.token, 'ap-1', mac)).toMatchObject({ cpeDeviceId: null, state: 'ACTIVE' });
  });
});
