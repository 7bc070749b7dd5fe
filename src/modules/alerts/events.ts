import type { Severity } from './rules.js';

export type AlertChange = 'RAISED' | 'ACKNOWLEDGED' | 'CLEARED';

declare module '../../events/events.js' {
  interface PulseEvents {
    alertChanged: {
      tenantId: string;
      deviceId: string;
      alertId: string;
      ruleId: string;
      change: AlertChange;
      severity: Severity;
      occurredAt: string;
    };
  }
}

export {};
