/**
 * The dispatcher follows committed events: a device came ONLINE (its held commands go out, in
 * creation order, within their TTL), a command was created, or one left flight (acked, missed),
 * freeing a slot for the next. The sweep worker catches a reaction lost in a crash.
 */
import { defineReaction } from '../../events/reactions.js';
import { dispatcherFor } from './dispatcher.js';
import { DISPATCH_TRIGGERS } from './status.js';
import './events.js';
import '../connectivity/events.js';

export const dispatchOnReconnect = defineReaction({
  name: 'commands-dispatch-on-online',
  event: 'deviceConnectivityChanged',
  async react(event, context) {
    if (event.status !== 'ONLINE') return;
    await dispatcherFor(context).request({ tenantId: event.tenantId, deviceId: event.deviceId });
  },
});

export const dispatchNext = defineReaction({
  name: 'commands-dispatch-next',
  event: 'commandStatusChanged',
  async react(event, context) {
    if (!DISPATCH_TRIGGERS.has(event.status)) return;
    await dispatcherFor(context).request({ tenantId: event.tenantId, deviceId: event.deviceId });
  },
});
