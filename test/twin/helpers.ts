/** GraphQL operations and small clients the twin tests share; seeding goes through the public API. */
import { expect } from 'vitest';
import type { TestApp } from '../harness/app.js';
import { REGISTER_DEVICE } from '../harness/operations.js';

export const TWIN_FIELDS = /* GraphQL */ `
  desired reported desiredVersion reportedVersion etag syncStatus pendingSince desiredUpdatedAt reportedUpdatedAt
  metadata { desired reported }
  delta { added { path value } removed { path value } changed { path desired reported } unchanged }
  lastConvergence { desiredVersion desiredAt convergedAt seconds }
`;

export const TWIN = /* GraphQL */ `
  query Twin($deviceId: String!) { device(deviceId: $deviceId) { deviceId twin { ${TWIN_FIELDS} } } }
`;

export const UPDATE_DESIRED = /* GraphQL */ `
  mutation UpdateDesired($input: UpdateDeviceTwinDesiredInput!) {
    updateDeviceTwinDesired(input: $input) {
      __typename
      ... on UpdateDeviceTwinDesiredPayload { desiredVersion etag autoMerged basedOnVersion twin { desired desiredVersion } device { deviceId } }
      ... on TwinVersionConflict { expectedVersion currentVersion currentEtag currentDesired conflictingPaths }
      ... on TwinDocumentTooLarge { issues { path code message } maxDocumentBytes maxDepth }
      ... on ValidationError { issues { path code message } }
      ... on Error { message code }
    }
  }
`;

export const HISTORY = /* GraphQL */ `
  query History($deviceId: String!, $direction: TwinDirection, $first: Int, $after: String) {
    twinHistory(deviceId: $deviceId, direction: $direction, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { direction version patch document mode actorType actorId createdAt } }
    }
  }
`;

export const TWIN_AT = /* GraphQL */ `
  query TwinAt($deviceId: String!, $version: Int!) { twinAt(deviceId: $deviceId, version: $version) { version document mode actorType } }
`;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type Twin = {
  desired: Record<string, Json>;
  reported: Record<string, Json>;
  desiredVersion: number;
  reportedVersion: number;
  etag: string;
  syncStatus: 'IN_SYNC' | 'PENDING' | 'STALE';
  pendingSince: string | null;
  desiredUpdatedAt: string | null;
  reportedUpdatedAt: string | null;
  metadata: { desired: Record<string, Json>; reported: Record<string, Json> };
  delta: {
    added: Array<{ path: string; value: Json }>;
    removed: Array<{ path: string; value: Json }>;
    changed: Array<{ path: string; desired: Json; reported: Json }>;
    unchanged: string[];
  };
  lastConvergence: { desiredVersion: number; desiredAt: string; convergedAt: string; seconds: number } | null;
};

export type DesiredResult = { __typename: string } & Record<string, Json>;

export type HistoryPage = {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: Array<{ node: { direction: string; version: number; patch: Json; document: Record<string, Json>; mode: string; actorType: string; actorId: string | null } }>;
};

export async function registerDevice(app: TestApp, token: string, deviceId: string): Promise<void> {
  const result = await app.gql<{ registerDevice: { __typename: string } }>(token, REGISTER_DEVICE, { input: { deviceId, name: deviceId } });
  expect(result.data?.registerDevice.__typename).toBe('RegisterDevicePayload');
}

export async function writeDesired(app: TestApp, token: string, input: Record<string, unknown>): Promise<DesiredResult> {
  const result = await app.gql<{ updateDeviceTwinDesired: DesiredResult }>(token, UPDATE_DESIRED, { input });
  expect(result.errors).toBeUndefined();
  return result.data!.updateDeviceTwinDesired;
}

/** The device's twin, or null when the caller cannot see the device. */
export async function readTwin(app: TestApp, token: string, deviceId: string): Promise<Twin | null> {
  const result = await app.gql<{ device: { twin: Twin } | null }>(token, TWIN, { deviceId });
  expect(result.errors).toBeUndefined();
  return result.data!.device?.twin ?? null;
}

export async function readHistory(app: TestApp, token: string, variables: Record<string, unknown>): Promise<HistoryPage> {
  const result = await app.gql<{ twinHistory: HistoryPage }>(token, HISTORY, variables);
  expect(result.errors).toBeUndefined();
  return result.data!.twinHistory;
}
