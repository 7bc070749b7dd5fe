/** GraphQL documents the tests share; seeding goes through the public API. */
export const REGISTER_DEVICE = /* GraphQL */ `
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
`;

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
