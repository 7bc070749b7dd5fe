import { defineModule } from '../../platform/module.js';
import * as deviceFields from './device-fields.js';
import { groupFilterTerm } from './filter-term.js';
import * as fleet from './fleet.js';
import * as mutations from './mutations.js';
import { membershipReactions } from './reactions.js';
import * as schema from './schema.js';
import * as subscriptions from './subscriptions.js';
import './events.js';

/** Static and dynamic device groups, the fleet summary and membership events. */
export const groupsModule = defineModule({
  name: 'groups',
  schema: [schema, mutations, fleet, deviceFields, subscriptions],
  reactions: membershipReactions,
  events: ['deviceGroupMembershipChanged'],
  deviceFields: ['groups'],
  deviceFilters: [groupFilterTerm],
});
