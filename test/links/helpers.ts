/**
 * What the links tests share: devices and interfaces seeded through the API, simulated access
 * points (mqtt.js clients with the AP's own credentials) publishing polls, and the reads.
 */
import type { MqttClient } from 'mqtt';
import { expect } from 'vitest';
import type { TestApp } from '../harness/app.js';
import { buildTopic } from '../harness/topics.js';
import { deviceClient, keepPresence, nextSettled, registerDevice, type Registered } from '../connectivity/support.js';

export { closeClients } from '../connectivity/support.js';

export interface Station {
  mac: string;
  signalDbm?: number | null;
  snrDb?: number | null;
  noiseDbm?: number | null;
  txRateMbps?: number | null;
  rxRateMbps?: number | null;
  ccq?: number | null;
  uptimeS?: number | null;
}

/** Thresholds that keep integration tests short and deterministic: K = 2, M = 2, no dwell, month-long ages. */
export const TEST_THRESHOLDS = {
  confirmPolls: 2,
  downAfterMissedPolls: 2,
  minDwellSeconds: 0,
  staleAfterSeconds: 2_500_000,
  apSilentAfterSeconds: 2_500_000,
};

const SET_THRESHOLDS = /* GraphQL */ `
  mutation($input: SetWirelessLinkThresholdsInput!) {
    setWirelessLinkThresholds(input: $input) {
      __typename
      ... on SetWirelessLinkThresholdsPayload { thresholds { signalDegradeDbm signalRecoverDbm snrDegradeDb snrRecoverDb confirmPolls downAfterMissedPolls minDwellSeconds staleAfterSeconds apSilentAfterSeconds } }
      ... on ValidationError { issues { path code message } }
    }
  }`;

export async function setThresholds(app: TestApp, token: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const result = await app.gql<{ setWirelessLinkThresholds: Record<string, unknown> }>(token, SET_THRESHOLDS, { input });
  expect(result.errors).toBeUndefined();
  return result.data!.setWirelessLinkThresholds;
}

/** A tenant ready for link tests: presence and link ages that other files' workers cannot reach, short K/M. */
export async function prepareTenant(app: TestApp, token: string, thresholds: Record<string, unknown> = {}): Promise<void> {
  await keepPresence(app, token);
  const result = await setThresholds(app, token, { ...TEST_THRESHOLDS, ...thresholds });
  expect(result.__typename).toBe('SetWirelessLinkThresholdsPayload');
}

export const REGISTER_INTERFACE = /* GraphQL */ `
  mutation($input: RegisterDeviceInterfaceInput!) {
    registerDeviceInterface(input: $input) {
      __typename
      ... on RegisterDeviceInterfacePayload { interface { id interfaceId deviceId name macAddress kind } resolvedLinks { linkId state apDeviceId cpeDeviceId cpeMac } }
      ... on AlreadyExists { resource key }
      ... on NotFound { resource key }
      ... on ValidationError { issues { path code message } }
      ... on Error { code message }
    }
  }`;

export type InterfaceResult = {
  __typename: string;
  interface?: { id: string; interfaceId: string; deviceId: string; name: string; macAddress: string; kind: string };
  resolvedLinks?: Array<{ linkId: string; state: string; apDeviceId: string; cpeDeviceId: string | null; cpeMac: string }>;
  issues?: Array<{ path: string[]; code: string }>;
  resource?: string;
  key?: string;
};

export async function registerInterface(app: TestApp, token: string, input: Record<string, unknown>): Promise<InterfaceResult> {
  const result = await app.gql<{ registerDeviceInterface: InterfaceResult }>(token, REGISTER_INTERFACE, { input });
  expect(result.errors).toBeUndefined();
  return result.data!.registerDeviceInterface;
}

/** A CPE: a device with one wifi interface of `mac`. */
export async function registerCpe(app: TestApp, token: string, deviceId: string, mac: string): Promise<void> {
  await registerDevice(app, token, deviceId);
  const result = await registerInterface(app, token, { deviceId, name: 'wlan0', macAddress: mac, kind: 'WIFI' });
  expect(result.__typename).toBe('RegisterDeviceInterfacePayload');
}

/** A simulated access point: registered through the API, connected with its own MQTT credentials. */
export interface AccessPoint {
  deviceId: string;
  tenantId: string;
  client: MqttClient;
  credentials: Registered['credentials'];
  /** The next pollId per radio (polls of a radio go up by one). */
  nextPollId: Map<string, number>;
}

export async function startAccessPoint(app: TestApp, tenant: { tenantId: string; token: string }, deviceId: string): Promise<AccessPoint> {
  const registered = await registerDevice(app, tenant.token, deviceId);
  const client = await deviceClient({
    url: app.mqttUrl,
    // The embedded broker admits a device's own client IDs only: its username, or username/<suffix>.
    clientId: `${registered.credentials.username}/ap`,
    username: registered.credentials.username,
    password: registered.credentials.password,
    protocolVersion: 4,
  });
  return { deviceId, tenantId: tenant.tenantId, client, credentials: registered.credentials, nextPollId: new Map() };
}

let lastTs = Date.now();
/** Strictly increasing poll timestamps across the run. */
function nextTs(): number {
  lastTs = Math.max(Date.now(), lastTs + 1);
  return lastTs;
}

export interface PollOptions {
  interface?: string;
  pollId?: number;
  ts?: number | string;
}

/** Publishes one poll (QoS 1) and resolves with the bridge's outcome once it is settled. */
export async function poll(app: TestApp, ap: AccessPoint, stations: Station[], options: PollOptions = {}) {
  const radio = options.interface ?? 'wlan0';
  const pollId = options.pollId ?? ap.nextPollId.get(radio) ?? 1;
  ap.nextPollId.set(radio, Math.max(pollId + 1, ap.nextPollId.get(radio) ?? 0));
  return publishRaw(app, ap, JSON.stringify({ pollId, interface: radio, ts: options.ts ?? nextTs(), stations }));
}

/** Publishes any payload on the AP's registrations topic; resolves with the bridge's outcome. */
export async function publishRaw(app: TestApp, ap: AccessPoint, payload: string | Buffer) {
  const topic = buildTopic.wirelessRegistrations(ap.tenantId, ap.deviceId);
  const settled = nextSettled(app, topic);
  await ap.client.publishAsync(topic, payload, { qos: 1 });
  return settled;
}

export const good = (mac: string): Station => ({ mac, signalDbm: -58, snrDb: 35, noiseDbm: -95, txRateMbps: 300, rxRateMbps: 270, ccq: 97, uptimeS: 3600 });
export const weak = (mac: string): Station => ({ mac, signalDbm: -82, snrDb: 10, noiseDbm: -92, txRateMbps: 24, rxRateMbps: 18, ccq: 60, uptimeS: 3600 });
export const at = (mac: string, signalDbm: number): Station => ({ mac, signalDbm, snrDb: 30 });

export const LINK_FIELDS = /* GraphQL */ `
  id linkId apDeviceId apInterfaceName cpeDeviceId cpeMac state stateSince missedPolls goodPolls lastSeenAt lastPollId
  signalDbm snrDb noiseDbm txRateMbps rxRateMbps ccq uptimeS
  ap { deviceId } cpe { deviceId } apInterface { name } cpeInterface { name macAddress }
`;

export type Link = {
  id: string;
  linkId: string;
  apDeviceId: string;
  apInterfaceName: string;
  cpeDeviceId: string | null;
  cpeMac: string;
  state: string;
  stateSince: string;
  missedPolls: number;
  goodPolls: number;
  lastSeenAt: string;
  lastPollId: number | null;
  signalDbm: number | null;
  snrDb: number | null;
  noiseDbm: number | null;
  txRateMbps: number | null;
  rxRateMbps: number | null;
  ccq: number | null;
  uptimeS: number | null;
  ap: { deviceId: string };
  cpe: { deviceId: string } | null;
  apInterface: { name: string } | null;
  cpeInterface: { name: string; macAddress: string } | null;
};

const LINKS = /* GraphQL */ `
  query($filter: WirelessLinkFilter, $first: Int, $after: String) {
    wirelessLinks(filter: $filter, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } edges { cursor node { ${LINK_FIELDS} } }
    }
  }`;

export async function links(app: TestApp, token: string, filter: Record<string, unknown> = {}, first = 20): Promise<Link[]> {
  const result = await app.gql<{ wirelessLinks: { edges: Array<{ node: Link }> } }>(token, LINKS, { filter, first });
  expect(result.errors).toBeUndefined();
  return result.data!.wirelessLinks.edges.map((edge) => edge.node);
}

export async function linksPage(app: TestApp, token: string, variables: Record<string, unknown>) {
  const result = await app.gql<{
    wirelessLinks: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: Array<{ cursor: string; node: Link }> };
  }>(token, LINKS, variables);
  return result;
}

const HISTORY = /* GraphQL */ `
  query($id: ID!) {
    node(id: $id) {
      ... on WirelessLink { state history(first: 25) { totalCount edges { node { eventId fromState toState reason suppressed pollId details occurredAt } } } }
    }
  }`;

export type HistoryEntry = { eventId: string; fromState: string | null; toState: string; reason: string; suppressed: boolean; pollId: number | null; details: Record<string, unknown> };

/** The link's history, oldest first, as `FROM→TO:REASON`, and the raw entries. */
export async function historyOf(app: TestApp, token: string, linkGlobalId: string): Promise<{ moves: string[]; entries: HistoryEntry[] }> {
  const result = await app.gql<{ node: { history: { edges: Array<{ node: HistoryEntry }> } } | null }>(token, HISTORY, { id: linkGlobalId });
  expect(result.errors).toBeUndefined();
  const entries = (result.data!.node?.history.edges ?? []).map((edge) => edge.node).reverse();
  return { entries, moves: entries.map((entry) => `${entry.fromState ?? 'NONE'}→${entry.toState}:${entry.reason}`) };
}

/** The one link of `ap` to `cpeMac` (fails when there is none). */
export async function linkTo(app: TestApp, token: string, apDeviceId: string, cpeMac: string): Promise<Link> {
  const found = (await links(app, token, { apDeviceId })).filter((link) => link.cpeMac === cpeMac);
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** A MAC unique to the run: 02:xx (locally administered) from a counter. */
let macCounter = Math.floor(Math.random() * 0xffffff) * 256;
export function uniqueMac(): string {
  macCounter += 1;
  const hex = macCounter.toString(16).padStart(10, '0').slice(-10);
  return `02:${hex.match(/../g)!.join(':')}`;
}
