import { Prisma } from '../../generated/prisma/client.js';
import type { TenantSession } from '../../db/tenant-session.js';
import type { PulseEvents } from '../../events/events.js';
import { builder } from '../../graphql/builder.js';
import { DeviceEventInterface, deviceEvents } from '../devices/device-event.js';
import { findGroup, groupMembershipSql, type GroupRecord } from '../groups/membership.js';
import { requireTenant } from '../tenants/service.js';
import { AlertRef, AlertSeverityEnum } from './schema.js';

type AlertChanged = PulseEvents['alertChanged'];

const AlertChangeEnum = builder.enumType('AlertChange', {
  values: {
    RAISED: { description: 'The alert opened (ACTIVE)' },
    ACKNOWLEDGED: { description: 'ACTIVE → ACKNOWLEDGED' },
    CLEARED: { description: 'It cleared, by its condition or by hand' },
  } as const,
});

const AlertChangedEvent = builder.objectRef<AlertChanged>('AlertChangedEvent').implement({
  interfaces: [DeviceEventInterface],
  fields: (t) => ({
    change: t.field({ type: AlertChangeEnum, resolve: (event) => event.change }),
    alertId: t.exposeString('alertId'),
    ruleId: t.exposeString('ruleId'),
    severity: t.field({ type: AlertSeverityEnum, resolve: (event) => event.severity }),
    occurredAt: t.field({ type: 'DateTime', resolve: (event) => new Date(event.occurredAt) }),
    alert: t.prismaField({
      type: AlertRef,
      nullable: true,
      description: "The alert as it is now, read in the subscriber's own tenant scope (null once its rule was deleted)",
      resolve: (query, event, _args, ctx) =>
        ctx.session.db.alert.findUnique({ ...query, where: { tenantId_alertId: { tenantId: event.tenantId, alertId: event.alertId } } }),
    }),
  }),
});

async function isMember(session: TenantSession, group: GroupRecord, deviceId: string): Promise<boolean> {
  const rows = await session.db.$queryRaw<unknown[]>(Prisma.sql`
    SELECT 1 FROM device_registry d WHERE d.tenant_id = ${group.tenantId} AND d.device_id = ${deviceId} AND ${await groupMembershipSql(session, group)}`);
  return rows.length > 0;
}

builder.subscriptionFields((t) => ({
  alertChanged: t.field({
    type: AlertChangedEvent,
    description:
      "Alerts of the caller's tenant RAISED, ACKNOWLEDGED and CLEARED, after commit; optionally of one device, of a group's current members (static or dynamic, checked as each event arrives) or of some severities",
    args: {
      deviceId: t.arg.string(),
      groupId: t.arg.string(),
      severities: t.arg({ type: [AlertSeverityEnum] }),
    },
    subscribe: async (_root, args, ctx) => {
      const tenantId = requireTenant(ctx.scope);
      const { deviceId, severities } = args;
      const group = args.groupId ? await findGroup(ctx.session, tenantId, args.groupId) : null;
      return deviceEvents(ctx, ctx.events.subscribe('alertChanged', tenantId), async (event: AlertChanged) => {
        if (deviceId && event.deviceId !== deviceId) return false;
        if (severities?.length && !severities.includes(event.severity)) return false;
        return !group || isMember(ctx.session, group, event.deviceId);
      });
    },
    resolve: (event) => event,
  }),
}));
