/**
 * The reference model of the property test: a fleet as plain objects, random filters over it, and
 * an in-memory evaluation of a `DeviceFilter` written independently of the SQL compiler (only the
 * twin sync rule is taken from src, computeTwinDelta / computeSyncStatus, the twin module's own
 * reference). Everything random comes from one seeded PRNG, so a failing seed replays exactly.
 */
import { computeSyncStatus, computeTwinDelta } from '../../src/modules/twin/delta.js';
import type { JsonObject } from '../../src/modules/twin/json.js';
import { parsePath } from '../../src/modules/twin/paths.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Filter = { [field: string]: unknown };

/** mulberry32: small, fast, good enough to pick test data. */
export function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const chance = (p: number) => next() < p;
  /** 1..max distinct items. */
  const some = <T>(items: readonly T[], max = 2): T[] => {
    const count = int(1, Math.min(max, items.length));
    const pool = [...items];
    const out: T[] = [];
    while (out.length < count) out.push(pool.splice(Math.floor(next() * pool.length), 1)[0]!);
    return out;
  };
  return { next, int, pick, chance, some };
}
export type Rng = ReturnType<typeof prng>;

export const SITES = ['site-a', 'site-b', 'site-c'] as const;
export const TAG_VALUES = { env: ['prod', 'dev', 'test'], zone: ['a', 'b'], tier: ['1', '2', '3'] } as const;
export const CONNECTION_TYPES = ['CELLULAR', 'ETHERNET', 'WIFI', 'LORA', 'SATELLITE', 'OTHER'] as const;
export const SIM_STATUSES = ['ACTIVE', 'SUSPENDED', 'DEACTIVATED', 'READY', 'UNKNOWN'] as const;
export const NETWORK_STATUSES = ['CONNECTED', 'DISCONNECTED', 'SUSPENDED', 'UNKNOWN'] as const;
export const STATUSES = ['ONLINE', 'STALE', 'OFFLINE'] as const;
export const SYNC_STATUSES = ['IN_SYNC', 'PENDING', 'STALE'] as const;
const CARRIERS = ['Hologram', 'hologram', '1NCE', null] as const;

export interface ModelConnection {
  connectionType: (typeof CONNECTION_TYPES)[number];
  carrierName: string | null;
  simStatus: (typeof SIM_STATUSES)[number];
  networkStatus: (typeof NETWORK_STATUSES)[number];
  dataLimitMb: number | null;
  dataUsedMb: number | null;
}

export interface ModelDevice {
  deviceId: string;
  name: string;
  siteId: string | null;
  tags: Record<string, string>;
  status: (typeof STATUSES)[number];
  lastSeenAt: Date | null;
  connection: ModelConnection | null;
  desired: JsonObject;
  reported: JsonObject;
  decommissioned: boolean;
  /** Static groups (by name in the model) listing it. */
  staticGroups: Set<string>;
}

export interface Fleet {
  devices: ModelDevice[];
  /** When lastSeenAt values are counted back from (whole seconds). */
  base: Date;
  /** groupId → its model: static member IDs, or a dynamic filter. */
  groups: Map<string, { kind: 'static'; members: Set<string> } | { kind: 'dynamic'; filter: Filter }>;
}

const seenAt = (base: Date, step: number) => new Date(base.getTime() - step * 600_000);

export function randomFleet(rng: Rng, size: number): Fleet {
  const base = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);
  const devices: ModelDevice[] = [];
  const used = new Set<string>();
  while (devices.length < size) {
    const deviceId = `${rng.pick(['dev', 'gw', 'Sensor'])}${rng.pick(['-', '_', '.', ''])}${String(rng.int(0, 99)).padStart(2, '0')}`;
    if (used.has(deviceId)) continue;
    used.add(deviceId);
    const tags: Record<string, string> = {};
    for (const [key, values] of Object.entries(TAG_VALUES)) if (rng.chance(0.6)) tags[key] = rng.pick(values);
    const status = rng.pick(STATUSES);
    const connection: ModelConnection | null = rng.chance(0.7)
      ? {
          connectionType: rng.chance(0.5) ? 'CELLULAR' : rng.pick(CONNECTION_TYPES),
          carrierName: rng.pick(CARRIERS),
          simStatus: rng.pick(SIM_STATUSES),
          networkStatus: rng.pick(NETWORK_STATUSES),
          dataLimitMb: rng.pick([null, 100]),
          dataUsedMb: rng.pick([null, 50, 100, 150]),
        }
      : null;
    const desired: JsonObject = {};
    if (rng.chance(0.6)) {
      if (rng.chance(0.7)) desired['cfg'] = { rate: rng.pick([5, 10, 20]) };
      if (rng.chance(0.5)) desired['fw'] = rng.pick(['1.0', '2.0']);
      if (rng.chance(0.2)) desired['list'] = [1, 2];
      if (rng.chance(0.15)) desired['cfg'] = {};
    }
    const reported: JsonObject = {};
    if (rng.chance(0.7)) {
      if (rng.chance(0.7)) reported['cfg'] = rng.chance(0.85) ? { rate: rng.pick([5, 10, 20]), mode: 'auto' } : 'broken';
      if (rng.chance(0.6)) reported['fw'] = rng.pick(['1.0', '2.0', '10.0']);
      if (rng.chance(0.6)) reported['temp'] = rng.pick([-5, 12.5, 20, 31, 'hot']);
      if (rng.chance(0.45)) reported['list'] = rng.pick([[1, 2], [1, 2, 3], [2, 1]]);
      if (rng.chance(0.2)) reported['flag'] = rng.pick([null, true, false]);
    }
    devices.push({
      deviceId,
      name: `${rng.pick(['Pump', 'pump', 'Valve', 'Gate%', 'Meter_'])}${rng.pick([' ', '-', ''])}${rng.int(1, 9)}`,
      siteId: rng.chance(0.75) ? rng.pick(SITES) : null,
      tags,
      status,
      lastSeenAt: status === 'OFFLINE' && rng.chance(0.4) ? null : seenAt(base, rng.int(0, 12)),
      connection,
      desired,
      reported,
      decommissioned: false,
      staticGroups: new Set(),
    });
  }
  return { devices, base, groups: new Map() };
}

// ---------------------------------------------------------------------------------------------
// Random filters
// ---------------------------------------------------------------------------------------------

function randomGlob(rng: Rng, text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    if (rng.chance(0.15)) {
      out += '*';
      i += rng.int(0, 2);
    } else out += rng.chance(0.15) ? '?' : text[i];
  }
  return /[^*?]/.test(out) ? out : text;
}

// list.0 / list.1 name array elements, which twin paths never reach (arrays are leaves).
const TWIN_PATHS = ['cfg.rate', 'cfg.mode', 'fw', 'temp', 'cfg', 'list', 'list.0', 'list.1', 'flag', 'cfg.missing', 'temp.x'] as const;
const EQ_VALUES: Json[] = [5, 10, 20, 12.5, '1.0', '2.0', 'auto', 'hot', null, true, [1, 2], { rate: 10, mode: 'auto' }, {}];
const ORDERED_VALUES: Json[] = [0, 1, 2, 10, 12.5, 20, '1.0', '10.0', '2.0', 'a'];

function twinConditions(rng: Rng) {
  return Array.from({ length: rng.int(1, 2) }, () => {
    const operator = rng.pick(['EQ', 'NE', 'GT', 'GTE', 'LT', 'LTE', 'EXISTS', 'NOT_EXISTS'] as const);
    const path = rng.pick(TWIN_PATHS);
    if (operator === 'EXISTS' || operator === 'NOT_EXISTS') return { path, operator };
    return { path, operator, value: operator === 'EQ' || operator === 'NE' ? rng.pick(EQ_VALUES) : rng.pick(ORDERED_VALUES) };
  });
}

/** Term generators: values drawn from the fleet itself, so filters select something. */
function termGenerators(fleet: Fleet, groupIds: readonly string[]): Record<string, (rng: Rng) => unknown> {
  const device = (rng: Rng) => rng.pick(fleet.devices);
  const tagFilters = (rng: Rng) =>
    rng.some(Object.keys(TAG_VALUES)).map((key) => (rng.chance(0.3) ? { key } : { key, value: rng.pick(TAG_VALUES[key as keyof typeof TAG_VALUES]) }));
  const substring = (rng: Rng, text: string) => {
    const start = rng.int(0, text.length - 1);
    const piece = text.slice(start, start + rng.int(1, 3));
    return rng.chance(0.5) ? piece.toUpperCase() : piece;
  };
  const at = (rng: Rng) => seenAt(fleet.base, rng.int(0, 12)).toISOString();
  return {
    siteId: (rng) => rng.pick([...SITES, 'site-z']),
    siteIds: (rng) => rng.some([...SITES, 'site-z']),
    tags: tagFilters,
    tagsAny: tagFilters,
    search: (rng) => substring(rng, rng.chance(0.5) ? device(rng).deviceId : device(rng).name),
    deviceIdPrefix: (rng) => device(rng).deviceId.slice(0, rng.int(1, 4)),
    namePrefix: (rng) => device(rng).name.slice(0, rng.int(1, 5)),
    deviceIdPattern: (rng) => randomGlob(rng, device(rng).deviceId),
    namePattern: (rng) => randomGlob(rng, device(rng).name),
    status: (rng) => rng.some(STATUSES),
    lastSeenBefore: at,
    lastSeenAfter: at,
    carrier: (rng) => rng.pick(['HOLOGRAM', '1nce', 'Other']),
    connectionType: (rng) => rng.some(CONNECTION_TYPES),
    simStatus: (rng) => rng.some(SIM_STATUSES),
    networkStatus: (rng) => rng.some(NETWORK_STATUSES),
    overDataLimit: (rng) => rng.chance(0.5),
    desired: twinConditions,
    reported: twinConditions,
    syncStatus: (rng) => rng.some(SYNC_STATUSES),
    ...(groupIds.length > 0 && { groupId: (rng: Rng) => rng.pick(groupIds) }),
  };
}

/** How many terms (not and / or / not) a filter has: the language allows 64. */
export function termCount(filter: Filter): number {
  let count = 0;
  for (const [field, value] of Object.entries(filter)) {
    if (field === 'and' || field === 'or') count += (value as Filter[]).reduce((sum, branch) => sum + termCount(branch), 0);
    else if (field === 'not') count += termCount(value as Filter);
    else count += 1;
  }
  return count;
}

/**
 * A random filter with and / or / not nested up to `depth` levels (at most 64 terms). Each level
 * has 1–`terms` terms; `and` and `not` narrow, `or` widens, so few terms per level keep a good
 * share of the filters non-empty.
 */
export function randomFilter(rng: Rng, fleet: Fleet, groupIds: readonly string[], depth = 3, terms = 2): Filter {
  const generators = termGenerators(fleet, groupIds);
  const node = (level: number): Filter => {
    const filter: Filter = {};
    for (const field of rng.some(Object.keys(generators), level === 0 ? terms : 1)) filter[field] = generators[field]!(rng);
    if (level < depth) {
      if (rng.chance(0.25)) filter['and'] = Array.from({ length: rng.int(1, 2) }, () => node(level + 1));
      if (rng.chance(0.4)) filter['or'] = Array.from({ length: rng.int(2, 3) }, () => node(level + 1));
      if (rng.chance(0.3)) filter['not'] = node(level + 1);
    }
    return filter;
  };
  for (;;) {
    const filter = node(0);
    if (termCount(filter) <= 64) return filter;
  }
}

// ---------------------------------------------------------------------------------------------
// In-memory evaluation
// ---------------------------------------------------------------------------------------------

const isObject = (value: unknown): value is Record<string, Json> => typeof value === 'object' && value !== null && !Array.isArray(value);

function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  if (isObject(a) || isObject(b)) {
    if (!isObject(a) || !isObject(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => key in b && jsonEqual(a[key], b[key]));
  }
  return a === b;
}

/** The value at a twin path; arrays are leaves (a path never indexes into one). */
function valueAt(document: JsonObject, path: string): Json | undefined {
  let current: Json | undefined = document as Json;
  for (const key of parsePath(path)!) {
    if (!isObject(current) || !Object.prototype.hasOwnProperty.call(current, key)) return undefined;
    current = current[key];
  }
  return current;
}

type TwinCondition = { path: string; operator: string; value?: Json };

function twinHolds(document: JsonObject, condition: TwinCondition): boolean {
  const value = valueAt(document, condition.path);
  const want = condition.value;
  switch (condition.operator) {
    case 'EXISTS':
      return value !== undefined;
    case 'NOT_EXISTS':
      return value === undefined;
    case 'EQ':
      return value !== undefined && jsonEqual(value, want ?? null);
    case 'NE':
      return value === undefined || !jsonEqual(value, want ?? null);
    default: {
      if (typeof want !== typeof value || (typeof want !== 'number' && typeof want !== 'string')) return false;
      const [a, b] = [value as number | string, want];
      return condition.operator === 'GT' ? a > b : condition.operator === 'GTE' ? a >= b : condition.operator === 'LT' ? a < b : a <= b;
    }
  }
}

export function syncStatusOf(device: ModelDevice): (typeof SYNC_STATUSES)[number] {
  return computeSyncStatus({ delta: computeTwinDelta(device.desired, device.reported), deviceStatus: device.status, desiredUpdatedAt: null, desiredVersion: 0 }).status;
}

const globRegExp = (glob: string) =>
  new RegExp(`^${glob.replace(/[.*+?^${}()|[\]\\]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`))}$`, 's');

const overLimit = (c: ModelConnection | null) => c !== null && c.dataLimitMb !== null && (c.dataUsedMb ?? 0) > c.dataLimitMb;

/** Whether `device` matches `filter` (terms at one level all hold; and / or / not as named). */
export function matches(fleet: Fleet, device: ModelDevice, filter: Filter): boolean {
  const c = device.connection;
  const tagHolds = (tag: { key: string; value?: string }) => tag.key in device.tags && (tag.value === undefined || device.tags[tag.key] === tag.value);
  for (const [field, value] of Object.entries(filter)) {
    let holds: boolean;
    switch (field) {
      case 'and':
        holds = (value as Filter[]).every((branch) => matches(fleet, device, branch));
        break;
      case 'or':
        holds = (value as Filter[]).some((branch) => matches(fleet, device, branch));
        break;
      case 'not':
        holds = !matches(fleet, device, value as Filter);
        break;
      case 'siteId':
        holds = device.siteId === value;
        break;
      case 'siteIds':
        holds = device.siteId !== null && (value as string[]).includes(device.siteId);
        break;
      case 'tags':
        holds = (value as Array<{ key: string; value?: string }>).every(tagHolds);
        break;
      case 'tagsAny':
        holds = (value as Array<{ key: string; value?: string }>).some(tagHolds);
        break;
      case 'search': {
        const text = (value as string).toLowerCase();
        holds = device.deviceId.toLowerCase().includes(text) || device.name.toLowerCase().includes(text);
        break;
      }
      case 'deviceIdPrefix':
        holds = device.deviceId.startsWith(value as string);
        break;
      case 'namePrefix':
        holds = device.name.startsWith(value as string);
        break;
      case 'deviceIdPattern':
        holds = globRegExp(value as string).test(device.deviceId);
        break;
      case 'namePattern':
        holds = globRegExp(value as string).test(device.name);
        break;
      case 'status':
        holds = (value as string[]).includes(device.status);
        break;
      case 'lastSeenBefore':
        holds = device.lastSeenAt === null || device.lastSeenAt.getTime() < new Date(value as string).getTime();
        break;
      case 'lastSeenAfter':
        holds = device.lastSeenAt !== null && device.lastSeenAt.getTime() >= new Date(value as string).getTime();
        break;
      case 'carrier':
        holds = c !== null && c.carrierName !== null && c.carrierName.toLowerCase() === (value as string).trim().toLowerCase();
        break;
      case 'connectionType':
        holds = c !== null && (value as string[]).includes(c.connectionType);
        break;
      case 'simStatus':
        holds = c !== null && (value as string[]).includes(c.simStatus);
        break;
      case 'networkStatus':
        holds = c !== null && (value as string[]).includes(c.networkStatus);
        break;
      case 'overDataLimit':
        holds = overLimit(c) === value;
        break;
      case 'desired':
        holds = (value as TwinCondition[]).every((condition) => twinHolds(device.desired, condition));
        break;
      case 'reported':
        holds = (value as TwinCondition[]).every((condition) => twinHolds(device.reported, condition));
        break;
      case 'syncStatus':
        holds = (value as string[]).includes(syncStatusOf(device));
        break;
      case 'groupId': {
        const group = fleet.groups.get(value as string);
        if (!group) throw new Error(`no group ${String(value)} in the model`);
        holds = group.kind === 'static' ? group.members.has(device.deviceId) : matches(fleet, device, group.filter);
        break;
      }
      default:
        throw new Error(`the reference model has no term ${field}`);
    }
    if (!holds) return false;
  }
  return true;
}

/** The active devices matching `filter`, sorted by device ID. */
export function expectedMembers(fleet: Fleet, filter: Filter): string[] {
  return fleet.devices
    .filter((device) => !device.decommissioned && matches(fleet, device, filter))
    .map((device) => device.deviceId)
    .sort();
}

export const DIMENSIONS = ['STATUS', 'SITE', 'CARRIER', 'SIM_STATUS', 'CONNECTION_TYPE', 'NETWORK_STATUS', 'SYNC_STATUS', 'TAG'] as const;

/** A device's bucket value for a fleetSummary dimension (null: no value). */
export function dimensionValue(device: ModelDevice, dimension: (typeof DIMENSIONS)[number], tagKey: string): string | null {
  const c = device.connection;
  switch (dimension) {
    case 'STATUS':
      return device.status;
    case 'SITE':
      return device.siteId;
    case 'CARRIER':
      return c?.carrierName ?? null;
    case 'SIM_STATUS':
      return c?.simStatus ?? null;
    case 'CONNECTION_TYPE':
      return c?.connectionType ?? null;
    case 'NETWORK_STATUS':
      return c?.networkStatus ?? null;
    case 'SYNC_STATUS':
      return syncStatusOf(device);
    case 'TAG':
      return device.tags[tagKey] ?? null;
  }
}
