import { defineFilterTerm } from '../../graphql/device-filter-terms.js';
import { ValidationError } from '../../kernel/errors.js';
import { idSchema } from '../../kernel/ids.js';
import { findGroup, groupMembershipSql } from './membership.js';

/** `DeviceFilter.groupId`: a member of this static or dynamic group (dynamic groups may nest). */
export const groupFilterTerm = defineFilterTerm({
  field: 'groupId',
  schema: idSchema.nullish(),
  input: (t) => t.string({ description: 'A member of this static or dynamic group' }),
  async sql(groupId, { session, tenantId, device, resolving }) {
    if (!tenantId) throw ValidationError.single(['filter', 'groupId'], 'operators name a tenantId to filter by group', 'UNSUPPORTED');
    return groupMembershipSql(session, await findGroup(session, tenantId, groupId), device, resolving);
  },
  // A nested dynamic group can look at anything.
  dependsOn: ['registry', 'tags', 'presence', 'connection', 'twin', 'groups'],
});
