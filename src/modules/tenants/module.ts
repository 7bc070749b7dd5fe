import { defineModule } from '../../platform/module.js';

/** Tenants: created on first write, scope checks every other module uses. No schema of its own yet. */
export const tenantsModule = defineModule({ name: 'tenants' });
