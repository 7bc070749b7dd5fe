import type { LinkState, LinkTransitionReason } from './state-machine.js';

declare module '../../events/events.js' {
  interface PulseEvents {
    /** A wireless link changed state (published after commit; suppressed changes are not). */
    wirelessLinkStateChanged: {
      tenantId: string;
      linkId: string;
      /** The wireless_link_events row. */
      eventId: string;
      apDeviceId: string;
      apInterfaceName: string;
      /** Null while the station MAC resolves to no device. */
      cpeDeviceId: string | null;
      cpeMac: string;
      /** Null for the discovery. */
      fromState: LinkState | null;
      toState: LinkState;
      reason: LinkTransitionReason;
      occurredAt: string;
    };
  }
}

export {};
