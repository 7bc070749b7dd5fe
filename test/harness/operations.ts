/** GraphQL documents the tests share; seeding goes through the public API. */

/**
 * A GraphQL document that carries the types of its result and variables (a typed document node
 * in string form): `app.gql(token, OPERATION, variables)` infers both, so tests need no casts.
 */
export type TypedOperation<Result, Variables = Record<string, unknown>> = string & {
  readonly __result?: Result;
  readonly __variables?: Variables;
};

export function operation<Result, Variables = Record<string, unknown>>(source: string): TypedOperation<Result, Variables> {
  return source as TypedOperation<Result, Variables>;
}

export type ValidationIssue = { path: string[]; message: string; code: string };
export type MqttCredentials = { username: string; password: string; topicPrefix: string };

/** The `registerDevice` result union, as REGISTER_DEVICE selects it. */
export type RegisterDeviceResult =
  | {
      __typename: 'RegisterDevicePayload';
      device: { id: string; deviceId: string; name: string; status: string; tags: Array<{ key: string; value: string }>; site: { siteId: string } | null };
      credentials: MqttCredentials;
    }
  | { __typename: 'ValidationError'; message: string; code: string; issues: ValidationIssue[] }
  | { __typename: 'AlreadyExists' | 'NotFound'; message: string; code: string };

export const REGISTER_DEVICE = operation<{ registerDevice: RegisterDeviceResult }, { input: Record<string, unknown> }>(/* GraphQL */ `
  mutation Register($input: RegisterDeviceInput!) {
    registerDevice(input: $input) {
      __typename
      ... on RegisterDevicePayload {
        device { id deviceId name status tags { key value } site { siteId } }
        credentials { username password topicPrefix }
      }
      ... on Error { message code }
      ... on ValidationError { issues { path message code } }
    }
  }
`);

export const DEVICE = /* GraphQL */ `
  query Device($deviceId: String!) {
    device(deviceId: $deviceId) { id deviceId name status tenantId tags { key value } decommissionedAt }
  }
`;

export const DEVICES = /* GraphQL */ `
  query Devices($first: Int, $after: String, $filter: DeviceFilter) {
    devices(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id deviceId tenantId name } }
    }
  }
`;
