import { afterAll, beforeAll, describe, expect, test } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { REGISTER_DEVICE } from '../harness/operations.js';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const CREATE_SITE = `mutation($input: CreateSiteInput!) { createSite(input: $input) { __typename
  ... on CreateSitePayload { site { siteId name latitude } } ... on Error { code } ... on ValidationError { issues { path } } } }`;

describe('sites', () => {
  test('create, list with their devices, duplicate and invalid input', async ({ tenant, otherTenant }) => {
    const created = await app.gql(tenant.token, CREATE_SITE, { input: { siteId: 'hq', name: 'HQ', latitude: 52.5 } });
    expect(created.data?.['createSite']).toEqual({ __typename: 'CreateSitePayload', site: { siteId: 'hq', name: 'HQ', latitude: 52.5 } });
    const typenameOnly = await app.gql(tenant.token, `mutation { createSite(input: { siteId: "plant", name: "Plant" }) { __typename } }`);
    expect(typenameOnly).toEqual({ data: { createSite: { __typename: 'CreateSitePayload' } } });
    const duplicate = await app.gql(tenant.token, CREATE_SITE, { input: { siteId: 'hq', name: 'Again' } });
    expect(duplicate.data?.['createSite']).toEqual({ __typename: 'AlreadyExists', code: 'ALREADY_EXISTS' });
    const invalid = await app.gql(tenant.token, CREATE_SITE, { input: { siteId: 'x', name: 'X', latitude: 91 } });
    expect(invalid.data?.['createSite']).toMatchObject({ __typename: 'ValidationError', issues: [{ path: ['input', 'latitude'] }] });

    await app.gql(tenant.token, REGISTER_DEVICE, { input: { deviceId: 'd1', name: 'd1', siteId: 'hq' } });
    const sites = await app.gql(tenant.token, `{ sites { totalCount edges { node { siteId devices { totalCount edges { node { deviceId } } } } } } }`);
    expect(sites.data?.['sites']).toEqual({
      totalCount: 2,
      edges: [
        { node: { siteId: 'hq', devices: { totalCount: 1, edges: [{ node: { deviceId: 'd1' } }] } } },
        { node: { siteId: 'plant', devices: { totalCount: 0, edges: [] } } },
      ],
    });
    const other = await app.gql(otherTenant.token, `{ sites { edges { node { siteId } } } site(siteId: "hq") { name } }`);
    expect(other.data).toEqual({ sites: { edges: [] }, site: null });
  });
});
