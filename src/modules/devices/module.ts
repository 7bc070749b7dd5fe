import { defineModule } from '../../platform/module.js';
import * as mutations from './mutations.js';
import { deviceDimensions, deviceFilterTerms } from './filter-terms.js';
import * as schema from './schema.js';
import * as subscriptions from './subscriptions.js';
import './events.js';

/** Devices: the registry, tags, sites, credentials; `Device`, `DeviceFilter` and the device list. */
export const devicesModule = defineModule({
  name: 'devices',
  schema: [schema, mutations, subscriptions],
  events: ['deviceChanged'],
  deviceFields: [
    'id',
    'deviceId',
    'tenantId',
    'name',
    'model',
    'firmwareVersion',
    'serialNumber',
    'metadata',
    'createdAt',
    'updatedAt',
    'decommissionedAt',
    'tags',
    'site',
  ],
  deviceFilters: deviceFilterTerms,
  deviceDimensions,
});
